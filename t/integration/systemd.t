# systemd units: the templates, instantiated for each service, are accepted
# by systemd itself, and the sandbox stays tight.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use Lectern::Test qw(src_dir build_dir);

my $analyze = (grep { -x } map { "$_/systemd-analyze" } split /:/, $ENV{PATH} // '')[0];
ok($analyze, 'systemd-analyze is installed') or BAIL_OUT('systemd-analyze is missing');
my $bin = build_dir();
# Every program a unit starts: each pool, each worker (with its outbox
# relay), the migrations and the one-host broker.
my @pools = qw(auth gate documents quiz chat tts stt);
my @workers = qw(documents quiz chat tts stt);
my @migrated = qw(auth documents quiz chat tts stt);
ok(-x "$bin/$_", "$_ is built")
	for (map({"lectern-$_"} @pools), map({"lectern-$_-worker"} @workers), 'lectern-admin',
	'lectern-broker');

my $dir = tempdir('lectern-units-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $src = src_dir() . '/systemd';

sub slurp {
	open(my $fh, '<', $_[0]) or die "$_[0]: $!";
	local $/;
	return scalar <$fh>;
}

# A template as `make` renders it, with the programs just built.
sub render {
	my ($name) = @_;
	my $text = slurp("$src/$name");
	$text =~ s/\@sysconfdir\@/\/etc/g;
	$text =~ s/\@sbindir\@/$bin/g;
	unlike($text, qr/\@[a-z]+\@/, "$name: every placeholder filled in");
	return $text;
}

sub put {
	my ($name, $text) = @_;
	open(my $out, '>', "$dir/$name") or die "$dir/$name: $!";
	print $out $text;
	close $out;
}

my $pool = render('lectern@.service.in');
my $worker = render('lectern-worker@.service.in');
my $migrate = render('lectern-migrate@.service.in');
my $broker = render('lectern-broker.service.in');
my $socket = slurp("$src/lectern\@.socket");
put('lectern.target', slurp("$src/lectern.target"));
put('lectern-broker.service', $broker);
my @units = ('lectern.target', 'lectern-broker.service');
for my $svc (@pools) {
	put("lectern\@$svc.service", $pool);
	put("lectern\@$svc.socket", $socket);
	push @units, "lectern\@$svc.service", "lectern\@$svc.socket";
}
for my $svc (@workers) {
	put("lectern-worker\@$svc.service", $worker);
	push @units, "lectern-worker\@$svc.service";
}
for my $svc (@migrated) {
	put("lectern-migrate\@$svc.service", $migrate);
	push @units, "lectern-migrate\@$svc.service";
}

my $list = join ' ', map {"./$_"} @units;
my $verify = `cd $dir && '$analyze' verify $list 2>&1`;
is($?, 0, 'systemd-analyze verify accepts every instance') or diag($verify);
unlike($verify, qr/lectern/, 'and says nothing about them') or diag($verify);

for my $unit (grep {/\.service$/} @units) {
	my $security = `cd $dir && '$analyze' security --offline=yes ./$unit 2>&1`;
	my ($exposure) = $security =~ /Overall exposure level for \Q$unit\E:\s*([\d.]+)/;
	ok(defined $exposure, "systemd-analyze security rates $unit") or diag($security);
	cmp_ok($exposure // 99, '<=', 2.0, "$unit: exposure level at most 2.0 (\"OK\")");
}

# What the templates promise, directive by directive.
my @sandbox = (
	'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes',
	'PrivateDevices=yes', 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6',
	'SystemCallFilter=@system-service', 'SystemCallArchitectures=native', 'CapabilityBoundingSet=',
	'MemoryDenyWriteExecute=yes', 'LockPersonality=yes', 'RestrictNamespaces=yes',
	'RestrictRealtime=yes', 'ProtectKernelTunables=yes', 'ProtectKernelModules=yes',
	'ProtectControlGroups=yes',
);
for my $line (@sandbox, 'Restart=on-failure', 'KillSignal=SIGTERM', 'User=lectern-%i',
	'ExecStart=' . "$bin/lectern-%i", 'EnvironmentFile=/etc/lectern/%i.env',
	'Requires=lectern@%i.socket') {
	like($pool, qr/^\Q$line\E$/m, "pool: $line");
}
for my $line (@sandbox, 'User=lectern-%i', 'ExecStart=' . "$bin/lectern-%i-worker",
	'EnvironmentFile=/etc/lectern/%i.env') {
	like($worker, qr/^\Q$line\E$/m, "worker: $line");
}
for my $line (@sandbox, 'User=lectern-%i') {
	like($migrate, qr/^\Q$line\E$/m, "migrations: $line");
}
like($broker, qr/^ExecStart=\Q$bin\E\/lectern-broker --bootstrap-file \/run\/lectern-broker\/bootstrap$/m,
	'broker: writes its address where workers read it');
like($migrate, qr/^ExecStart=\Q$bin\E\/lectern-admin migrate %i$/m, 'migrations: lectern-admin migrate');
for my $line ('ListenStream=/run/lectern/%i.sock', 'SocketUser=www-data', 'SocketMode=0660') {
	like($socket, qr/^\Q$line\E$/m, "socket: $line");
}
# The signing keys reach auth and the gate only.
for my $svc (qw(auth gate)) {
	my $dropin = render("lectern\@$svc.service.d/keys.conf.in");
	like($dropin, qr/^LoadCredential=jwt\.keys:\/etc\/lectern\/jwt\.keys$/m, "$svc: keys as a credential");
}
like($_, qr/^MemoryMax=\d+[MG]$/m, 'a memory ceiling') for $pool, $worker, $migrate, $broker;
# Files the store writes (0640) stay readable by nginx's group.
like($_, qr/^UMask=0027$/m, 'pools and workers: umask 0027') for $pool, $worker;
# The shared file store: each service writes its own part only.
for my $svc (qw(documents tts)) {
	for my $unit ("lectern\@$svc.service", "lectern-worker\@$svc.service") {
		like(slurp("$src/$unit.d/store.conf"), qr/^ReadWritePaths=\/var\/lib\/lectern\/store\/$svc$/m,
			"$unit: writes its part of the store");
	}
}
unlike($pool . $worker . $migrate . $broker, qr/jwt/, 'no other service gets the keys');

done_testing();
