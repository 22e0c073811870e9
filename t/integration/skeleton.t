# A new service is a descriptor, a route table and one handler: the test-only
# lectern-skeleton (t/skeleton/main.c) is started like any pool, routed by a
# services.d file of nginx, and answers through the gate.
use strict;
use warnings;
use Test::More;
use POSIX ();
use Lectern::Test qw(start_stack build_dir);

my $prog = build_dir() . '/t/skeleton/lectern-skeleton';
ok(-x $prog, 'lectern-skeleton is built') or BAIL_OUT('not built');

# --help lists the settings lib declares for it, and nothing it does not use.
my $help = `'$prog' --help 2>&1`;
is($? >> 8, 0, '--help exits 0');
like($help, qr/LECTERN_LISTEN/, '--help: the serving settings');
like($help, qr/LECTERN_LOG_LEVEL/, '--help: the log level');
unlike($help, qr/LECTERN_DB_DSN|LECTERN_REDIS_URL|LECTERN_STORE/, '--help: no client it does not use');
my $bad = `LECTERN_LOG_LEVEL=loud '$prog' --print-config 2>&1`;
is($? >> 8, 1, 'a bad setting stops it at start');
like($bad, qr/LECTERN_LOG_LEVEL: \\"loud\\" is not one of/, '... naming the setting and the choices');

my $s = start_stack();
my $dir = $s->dir;
my $sock = "$dir/run/skeleton.sock";
# As the lab does: the socket belongs to nginx's user when we are root.
my @owner = $< == 0 ? ('-U', 'nobody', '-G', scalar getgrgid((getpwnam('nobody'))[3])) : ();
my $pid = fork() // die "fork: $!";
if ($pid == 0) {
	open(STDOUT, '>>', "$dir/log/skeleton.log") or POSIX::_exit(127);
	open(STDERR, '>&', \*STDOUT) or POSIX::_exit(127);
	$ENV{LECTERN_WORKERS} = 2;
	exec('spawn-fcgi', '-n', '-s', $sock, '-M', '0660', @owner, '--', $prog);
	POSIX::_exit(127);
}
for (1 .. 100) { last if -S $sock; select(undef, undef, undef, 0.05) }
ok(-S $sock, 'the skeleton pool listens');

# Its routing: one file in services.d, as an operator adds a service.
open(my $conf, '>', "$dir/nginx/services.d/skeleton.conf") or die $!;
print $conf <<"CONF";
location = /api/v1/skeleton/health {
	include $dir/nginx/snippets/fastcgi.conf;
	fastcgi_pass unix:$sock;
}
location ~ ^/api/v1/skeleton(?:/|\$) {
	include $dir/nginx/snippets/protect.conf;
	include $dir/nginx/snippets/fastcgi.conf;
	fastcgi_pass unix:$sock;
}
CONF
close $conf;
ok($s->reload_nginx, 'nginx reloaded, its old workers gone');
my ($st, $h, $j);
for (1 .. 50) {
	($st, undef, $j) = $s->request(GET => '/api/v1/skeleton/health');
	last if $st == 200;
	select(undef, undef, undef, 0.1);
}
is($st, 200, 'health through nginx');
is($j->{service}, 'skeleton', 'health names the service');
is($j->{status}, 'ok', 'health is ok with no clients to check');

($st) = $s->request(GET => '/api/v1/skeleton/hello/3');
is($st, 401, 'no token: 401 from the gate');
($st, undef, undef) = $s->register('skel@example.org', 'a long enough passphrase', 'Skel');
is($st, 201, 'registered');
my (undef, $session) = $s->login('skel@example.org', 'a long enough passphrase');
my $auth = { Authorization => "Bearer $session->{token}" };
($st, undef, $j) = $s->request(GET => '/api/v1/skeleton/hello/3?shout=true', $auth);
is($st, 200, 'the handler answers');
is($j->{user_id}, $session->{user}{id}, 'with the identity the gate verified');
is($j->{n}, 3, 'the path number, validated by the table');
ok($j->{shout}, 'the query boolean too');
($st, undef, $j) = $s->request(GET => '/api/v1/skeleton/hello/3', { %$auth, 'X-User-Id' => 'forged' });
is($j->{user_id}, $session->{user}{id}, 'a forged identity header changes nothing');
for my $n ('0', '-1', 'abc', '1001', '3.5') {
	($st, undef, $j) = $s->request(GET => "/api/v1/skeleton/hello/$n", $auth);
	is($st, 404, "/hello/$n: 404 (a bad path number names nothing)");
	is($j->{error}, 'not_found', '... as the JSON error');
}
($st, undef, $j) = $s->request(GET => '/api/v1/skeleton/hello/3?shout=maybe', $auth);
is($st, 400, 'a bad query value: 400');
is($j->{details}[0]{field}, 'shout', '... naming the field');
($st) = $s->request(POST => '/api/v1/skeleton/hello/3', $auth);
is($st, 405, 'another method: 405');

kill 'TERM', $pid;
waitpid($pid, 0);
is($? >> 8, 0, 'the pool stops cleanly on SIGTERM');
done_testing();
