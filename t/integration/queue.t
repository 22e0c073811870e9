# One user cannot stall the documents API for others (issue: reliability):
# waits for jobs take at most half of the pool (one per user), so other
# requests are served while a user's uploads wait; the job queue serves users
# in turns, so a flooding user's backlog does not delay another user's small
# document; each user's queue is bounded (429 with Retry-After). The
# documents worker is frozen (SIGSTOP) while the requests are made, so what
# waits and what is queued is known, then thawed.
use strict;
use warnings;

use HTTP::Tiny;
use JSON::PP;
use Test::More;
use Time::HiRes qw(time sleep);

use Lectern::Test qw(start_stack multipart_body);

# Two pool processes (the tests' default): one may wait, one always serves.
my $bound = 6;
my $stack = start_stack(env => { LAB_RATE_LIMIT => 100000, LAB_JOBS_PER_USER => $bound });
my $base = '/api/v1/documents';
my $json = JSON::PP->new->canonical;

my ($alice) = $stack->user('flood@example.org');
my ($bob) = $stack->user('small@example.org');
sub auth { return { Authorization => "Bearer $_[0]", %{ $_[1] // {} } } }

# upload(TOKEN, FILENAME, TEXT, WAIT) -> (status, headers, json)
sub upload {
	my ($token, $name, $data, $wait) = @_;
	my ($st, $j, $h) = $stack->upload($token, $name, $data, 'text/plain',
		{ path => "$base/upload", fields => { wait => $wait } });
	return ($st, $h, $j);
}

my $text = join(' ', map { "Sentence $_ of the flooding user's notes about rivers and lakes." } 1 .. 40);

# The documents worker, frozen: jobs are queued but none runs.
my $wpid = ($stack->slurp($stack->dir . '/run/documents-worker.pid') // '') =~ /^(\d+)/ ? $1 : 0;
ok($wpid > 1, 'the documents worker runs') or BAIL_OUT('no documents worker');
is(kill('STOP', $wpid), 1, 'documents worker frozen');

# 1. Alice sends three uploads at once, each asking to wait 30 s.
my $out = $stack->dir . '/queue-out';
mkdir $out;
my @kids;
my $t0 = time;
for my $i (1 .. 3) {
	my $pid = fork() // die "fork: $!";
	if ($pid == 0) {
		my ($body, $ct) = multipart_body(['file', "wait$i.txt", "$text (upload $i)", 'text/plain'], ['wait', undef, 30]);
		my $res = HTTP::Tiny->new(timeout => 90)->request(POST => $stack->http_url . "$base/upload",
			{ headers => { Authorization => "Bearer $alice", 'Content-Type' => $ct }, content => $body });
		open(my $fh, '>', "$out/$i.tmp") or exit 1;
		print $fh $json->encode({ status => $res->{status}, seconds => time - $t0,
			body => eval { decode_json($res->{content}) } // {} });
		close $fh;
		rename("$out/$i.tmp", "$out/$i");
		exit 0;
	}
	push @kids, $pid;
}
# Two of them come back at once: only one of alice's requests may wait.
my $deadline = time + 20;
sleep 0.1 while time < $deadline && scalar(() = glob("$out/[0-9]")) < 2;
my @early = map { decode_json($stack->slurp($_)) } glob("$out/[0-9]");
is(scalar @early, 2, 'two of three waiting uploads answered without waiting')
	or diag($json->encode(\@early));
is_deeply([ sort map { $_->{status} } @early ], [ 201, 201 ], 'with 201');
is_deeply([ map { $_->{body}{status} } @early ], [ 'uploaded', 'uploaded' ], 'as uploaded (not yet processed)');
ok(!grep({ $_->{seconds} > 15 } @early), 'long before their 30 s wait');

# Bob's requests are served meanwhile (the one that waits holds one process).
my $t1 = time;
my ($st, $h, $list) = $stack->request(GET => "$base/", auth($bob));
is($st, 200, "bob's list is answered while alice's upload waits");
ok(time - $t1 < 10, 'promptly (a held pool would take 30 s)') or diag(time - $t1);
is(scalar(() = glob("$out/[0-9]")), 2, "alice's admitted wait is still waiting");

# 2. Alice floods: her queue is bounded.
my ($n, $refused) = (3, undef);
for (1 .. $bound + 2) {
	my ($s, $hh, $j) = upload($alice, "flood$_.txt", "$text (flood $_)", 0);
	if ($s == 201) { $n++; next }
	$refused = [ $s, $hh, $j ];
	last;
}
is($n, $bound, "alice queued $bound documents");
ok($refused, 'the next one is refused');
is($refused->[0], 429, 'with 429');
like($refused->[1]{'retry-after'} // '', qr/^[1-9][0-9]*$/, 'and Retry-After');
is($refused->[2]{error}, 'rate_limited', 'error rate_limited');
like($refused->[2]{message} // '', qr/waiting to be processed/, 'saying why');
my ($s2, $h2) = $stack->request(POST => "$base/$early[0]{body}{id}/process", auth($alice));
is($s2, 429, 'reprocessing is refused too while the queue is full');
ok($h2->{'retry-after'}, 'also with Retry-After');

# Bob is not held back by alice's queue.
my ($bs, undef, $bdoc) = upload($bob, 'small.txt', 'Lakes hold fresh water.', 0);
is($bs, 201, "bob's small document is accepted");
my $bid = $bdoc->{id} // '';

# 3. Thaw the worker: bob's document comes before most of alice's.
is(kill('CONT', $wpid), 1, 'documents worker thawed');
for my $pid (@kids) { waitpid($pid, 0) }
my ($waited) = grep { ($_->{body}{status} // '') eq 'processed' }
	map { decode_json($stack->slurp("$out/$_") // '{}') } 1 .. 3;
ok($waited, 'the admitted wait came back with its document processed');

my %docs;
$deadline = time + 120;
while (time < $deadline) {
	%docs = ();
	for my $tok ($alice, $bob) {
		my (undef, undef, $l) = $stack->request(GET => "$base/?limit=100", auth($tok));
		$docs{ $_->{id} } = { %$_, mine => $tok eq $bob ? 'bob' : 'alice' } for @{ $l // [] };
	}
	last if keys %docs == $bound + 1 && !grep { $_->{status} !~ /^(processed|failed)$/ } values %docs;
	sleep 0.3;
}
is(scalar(grep { $_->{status} eq 'processed' } values %docs), $bound + 1, 'every document is processed');
my $bt = $docs{$bid}{updated_at} // '';
my @before = grep { $_->{mine} eq 'alice' && $_->{updated_at} lt $bt } values %docs;
ok(@before <= 2, "bob's document was processed after at most 2 of alice's $bound (first in, first out: all)")
	or diag(scalar(@before) . " before it: " . $json->encode(\%docs));

# With her queue drained, alice may queue again.
my ($s3) = upload($alice, 'again.txt', 'Again.', 0);
is($s3, 201, 'alice can upload again once her documents are processed');

done_testing();
