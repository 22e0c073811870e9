# docker/: no container engine runs here, so what can be checked without one
# is: Debian's docker-compose accepts both compose files, every program a
# container runs exists, and every LECTERN_ setting the compose file gives a
# program is one that program knows (its --help lists each setting, the same
# table --print-config prints); every secret a setting points at is listed
# for that service and made by docker/make-secrets; the image is two stages,
# runs as a non-root user and has a health check.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use JSON::PP;
use Lectern::Test qw(src_dir build_dir);

my $src = src_dir();
my $bin = build_dir();
my $compose = (grep { -x } map { "$_/docker-compose" } split /:/, $ENV{PATH} // '')[0];
ok($compose, 'docker-compose is installed') or BAIL_OUT('docker-compose is missing');
ok(-x '/usr/bin/python3', 'python3 reads YAML') or BAIL_OUT('/usr/bin/python3 is missing');

my $secrets = tempdir('lectern-secrets-XXXXXX', TMPDIR => 1, CLEANUP => 1);
is(system("'$src/docker/make-secrets' '$secrets' >/dev/null"), 0, 'make-secrets makes the secrets');
is((stat $secrets)[2] & 07777, 0700, 'in a directory only its owner enters');

for my $file (qw(compose.yaml docker-compose.learner-lab.yml)) {
	my $out = `'$compose' -f '$src/docker/$file' config -q 2>&1`;
	is($?, 0, "docker-compose config accepts $file") or diag($out);
}

# The resolved file (anchors merged), as JSON.
my $yaml = `'$compose' -f '$src/docker/compose.yaml' config 2>/dev/null`;
my $json = do {
	my $dir = tempdir('lectern-compose-XXXXXX', TMPDIR => 1, CLEANUP => 1);
	open(my $fh, '>', "$dir/c.yaml") or die;
	print $fh $yaml;
	close $fh;
	`/usr/bin/python3 -c 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))' '$dir/c.yaml'`;
};
my $c = decode_json($json);
my %svc = %{$c->{services}};

# What each program knows: the names its --help lists.
my %known;
sub knows {
	my ($prog) = @_;
	$known{$prog} //= { map { $_ => 1 } `'$bin/$prog' --help 2>&1` =~ /\b(LECTERN_[A-Z0-9_]+)/g };
	return $known{$prog};
}

my %pools = map { $_ => 1 } qw(auth gate documents quiz chat tts stt);
my (%runs, $lectern_containers);
for my $name (sort keys %svc) {
	my $s = $svc{$name};
	next unless ($s->{image} // '') eq 'lectern:latest';
	$lectern_containers++;
	my @cmd = @{$s->{command} // []};
	my $prog = $pools{$cmd[0]} ? "lectern-$cmd[0]" : $cmd[0] eq 'sh' ? 'lectern-admin' : $cmd[0];
	$runs{$prog} = 1;
	next if $prog eq 'nginx';
	ok(-x "$bin/$prog", "$name runs $prog, which is built");
	my %env = %{$s->{environment} // {}};
	my %listed = map { (ref $_ ? $_->{source} : $_) => 1 } @{$s->{secrets} // []};
	for my $var (sort keys %env) {
		next unless $var =~ /^LECTERN_/;
		(my $setting = $var) =~ s/_FILE$//;
		ok(knows($prog)->{$setting}, "$name: $prog knows $setting");
		if ($var =~ /_FILE$/ && $env{$var} =~ m{^/run/secrets/(.+)$}) {
			ok($listed{$1}, "$name: the secret $1 is handed to it");
			ok(-s "$secrets/$1", "$name: make-secrets makes $1");
		}
	}
	if ($name eq 'migrate') {
		like(join(' ', @cmd), qr/lectern-admin migrate/, 'migrate: lectern-admin migrate');
		ok(-s "$secrets/$_.dsn" && $listed{"$_.dsn"}, "migrate: the $_ DSN") for qw(auth documents quiz chat tts stt);
	}
}
ok($lectern_containers, 'the compose file runs the lectern image');

# Every program a host runs has its container: each pool, each worker built,
# the topics and the migrations.
for my $pool (sort keys %pools) {
	ok($runs{"lectern-$pool"}, "a container serves $pool");
	ok($runs{"lectern-$pool-worker"}, "a container runs lectern-$pool-worker")
		if -x "$bin/lectern-$pool-worker";
}
ok($runs{nginx}, 'nginx is in front');
is_deeply($svc{topics}{command}, ['lectern-admin', 'topics'], 'topics: lectern-admin topics');
for my $dep (qw(postgres redis kafka)) {
	ok($svc{$dep}{healthcheck}, "$dep has a health check");
}
like(join(' ', values %{$svc{kafka}{environment}}), qr/broker,controller/, 'Kafka runs in KRaft mode');
is($svc{auth}{depends_on}{migrate}{condition}, 'service_completed_successfully', 'pools wait for the migrations');
is($svc{'documents-worker'}{depends_on}{topics}{condition}, 'service_completed_successfully',
	'workers wait for the topics');

# The image.
open(my $fh, '<', "$src/docker/Dockerfile") or die;
my $df = do { local $/; <$fh> };
like($df, qr/^FROM debian:12 AS build$/m, 'Dockerfile: a Debian 12 build stage');
like($df, qr/dpkg-buildpackage -us -uc -b/, 'that builds the Debian packages');
like($df, qr/^FROM debian:12-slim$/m, 'a slim Debian 12 runtime');
like($df, qr{apt-get install [^\n]*/tmp/debs/\*\.deb}, 'that installs the packages');
like($df, qr/^USER lectern$/m, 'runs as a non-root user');
like($df, qr/^HEALTHCHECK /m, 'has a health check');

# The image builds from debian/control, CI and the lab from tools/packages.txt:
# every Build-Depends must be in the list (pkgconf is what pkg-config installs).
open(my $pk, '<', "$src/tools/packages.txt") or die;
my %listed = map { s/#.*//r =~ s/\s+//gr => 1 } <$pk>;
$listed{pkgconf} = 1 if $listed{'pkg-config'};
open(my $ctl, '<', "$src/debian/control") or die;
my ($bd) = do { local $/; <$ctl> } =~ /^Build-Depends:(.*?)^\S/ms;
for my $dep (map { /^\s*([a-z0-9][a-z0-9.+-]*)/ ? $1 : () } split /,/, $bd) {
	next if $dep eq 'debhelper-compat';
	ok($listed{$dep}, "Build-Depends $dep is in tools/packages.txt");
}

done_testing();
