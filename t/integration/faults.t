# Faults: a frozen Postgres (SIGSTOP) costs a request seconds and a JSON 503,
# never a hang, and health says the database is down; after SIGCONT all is
# well again.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time);
use Lectern::Test qw(start_stack);

my $s = start_stack();
my $dir = $s->dir;
my ($st, $session) = $s->register('faults@example.org', 'frozen database passphrase', 'F');
is($st, 201, 'registered');
my $auth = { Authorization => "Bearer $session->{token}" };
($st) = $s->request(GET => '/api/v1/documents/', $auth);
is($st, 200, 'the documents list answers');

# This stack's Postgres: the postmaster and its children, nobody else's.
open(my $fh, '<', "$dir/postgres/data/postmaster.pid") or die "postmaster.pid: $!";
my $postmaster = <$fh> + 0;
close $fh;
# Never 0 or a negative number: kill would then signal our own process group.
my @pids = grep { $_ > 1 } ($postmaster, map { $_ + 0 } grep { /^\d+$/ } split /\s+/,
	`ps -o pid= --ppid $postmaster`);
ok($postmaster > 1 && @pids > 1, 'found the postmaster and its backends')
	or BAIL_OUT('no Postgres to freeze');
is(kill('STOP', @pids), scalar @pids, 'Postgres frozen (SIGSTOP)');

my $t0 = time;
my ($h, $j);
($st, $h, $j) = $s->request(GET => '/api/v1/documents/', $auth);
my $took = time - $t0;
is($st, 503, 'a request that needs the database: 503');
is($j->{error}, 'unavailable', '... the JSON error of the contract');
like($h->{'content-type'} // '', qr{^application/json}, '... as JSON');
cmp_ok($took, '<', 20, sprintf('... within seconds (%.1f s), not nginx\'s 60 s', $took));

($st, undef, $j) = $s->request(GET => '/api/v1/documents/health');
is($st, 503, 'health: 503');
is($j->{checks}{database}{status}, 'down', 'health names the database as down');

kill('CONT', @pids);
my $ok = 0;
for (1 .. 100) {
	($st) = $s->request(GET => '/api/v1/documents/', $auth);
	if ($st == 200) { $ok = 1; last }
	select(undef, undef, undef, 0.2);
}
ok($ok, 'after SIGCONT the service answers again');
($st, undef, $j) = $s->request(GET => '/api/v1/documents/health');
is($j->{status}, 'ok', 'and health is ok');
done_testing();
