#!/bin/bash
# Run once by the postgres image on an empty data volume: one role and one
# database per service. Lab passwords: the database port is not published.
set -euo pipefail
for svc in auth documents quiz chat tts stt; do
	psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d postgres \
		-c "CREATE ROLE lectern_$svc LOGIN PASSWORD 'lab-$svc'" \
		-c "CREATE DATABASE lectern_$svc OWNER lectern_$svc" \
		-c "REVOKE ALL ON DATABASE lectern_$svc FROM PUBLIC"
done
