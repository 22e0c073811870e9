#!/bin/bash
# Run once by the postgres image on an empty data volume: one role and one
# database per service. The password is the one in the service's DSN secret
# (/run/secrets/NAME.dsn, docker/compose.yaml); without it, the learner lab's
# fixed one (docker-compose.learner-lab.yml: the port is not published).
set -euo pipefail
for svc in auth documents quiz chat tts stt; do
	pass=lab-$svc
	if [ -r "/run/secrets/$svc.dsn" ]; then
		dsn=$(cat "/run/secrets/$svc.dsn")
		rest=${dsn#*://}
		cred=${rest%%@*}
		pass=${cred#*:}
	fi
	psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d postgres -v pass="$pass" <<SQL
CREATE ROLE lectern_$svc LOGIN PASSWORD :'pass';
ALTER ROLE lectern_$svc SET jit = off;
CREATE DATABASE lectern_$svc OWNER lectern_$svc;
REVOKE ALL ON DATABASE lectern_$svc FROM PUBLIC;
SQL
done
