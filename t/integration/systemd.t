# systemd units: systemd itself accepts them, and the sandbox stays tight.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use Lectern::Test qw(src_dir build_dir);

my $analyze = (grep { -x } map { "$_/systemd-analyze" } split /:/, $ENV{PATH} // '')[0];
plan skip_all => 'systemd-analyze is not installed' unless $analyze;
my $prog = build_dir() . '/lectern-auth';
plan skip_all => 'lectern-auth is not built' unless -x $prog;

my $dir = tempdir('lectern-units-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $src = src_dir() . '/systemd';

sub slurp {
	open(my $fh, '<', $_[0]) or die "$_[0]: $!";
	local $/;
	return scalar <$fh>;
}

# The unit as `make` renders it, with ExecStart at the program just built.
my $service = slurp("$src/lectern-auth.service.in");
$service =~ s/\@sysconfdir\@/\/etc/g;
$service =~ s{ExecStart=\@sbindir\@/lectern-auth}{ExecStart=$prog};
unlike($service, qr/\@[a-z]+\@/, 'every placeholder filled in');
open(my $out, '>', "$dir/lectern-auth.service") or die $!;
print $out $service;
close $out;
my $socket = slurp("$src/lectern-auth.socket");
open($out, '>', "$dir/lectern-auth.socket") or die $!;
print $out $socket;
close $out;

my $verify = `cd $dir && '$analyze' verify ./lectern-auth.socket ./lectern-auth.service 2>&1`;
is($?, 0, 'systemd-analyze verify accepts both units') or diag($verify);
unlike($verify, qr/lectern-auth/, 'and says nothing about them') or diag($verify);

my $security = `cd $dir && '$analyze' security --offline=yes ./lectern-auth.service 2>&1`;
my ($exposure) = $security =~ /Overall exposure level for lectern-auth\.service:\s*([\d.]+)/;
ok(defined $exposure, 'systemd-analyze security rates the service') or diag($security);
cmp_ok($exposure // 99, '<=', 2.0, 'exposure level at most 2.0 ("OK")');

# What the units promise, directive by directive.
my @service_has = (
	'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes',
	'PrivateDevices=yes', 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6',
	'SystemCallFilter=@system-service', 'SystemCallArchitectures=native', 'CapabilityBoundingSet=',
	'MemoryDenyWriteExecute=yes', 'LockPersonality=yes', 'RestrictNamespaces=yes',
	'RestrictRealtime=yes', 'ProtectKernelTunables=yes', 'ProtectKernelModules=yes',
	'ProtectControlGroups=yes', 'DynamicUser=yes', 'Restart=on-failure', 'KillSignal=SIGTERM',
	'EnvironmentFile=/etc/lectern/auth.env', 'Requires=lectern-auth.socket',
);
for my $line (@service_has) {
	like($service, qr/^\Q$line\E$/m, "service: $line");
}
for my $line ('ListenStream=/run/lectern/auth.sock', 'SocketUser=www-data', 'SocketMode=0660') {
	like($socket, qr/^\Q$line\E$/m, "socket: $line");
}

done_testing();
