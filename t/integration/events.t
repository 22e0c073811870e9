#!/usr/bin/perl
# Events and jobs against a real broker (lectern-broker) and a real Postgres:
# envelope read by kcat, redelivery applied once, poison to the dead-letter
# topic, broker down while events are recorded, a worker killed mid-job, and
# a request waiting for a job.
use strict;
use warnings;
use Test::More;

use Lectern::Test qw(prerequisite);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);

my $src = $ENV{LECTERN_SRCDIR};
my $build = $ENV{LECTERN_BUILDDIR};
prerequisite($src && $build, 'LECTERN_SRCDIR and LECTERN_BUILDDIR are not set (make check sets them)');
for my $tool (qw(kcat psql)) {
	prerequisite(scalar(grep { -x "$_/$tool" } split /:/, $ENV{PATH}), "$tool not installed");
}

my $dir = tempdir('lectern-ev-XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{LECTERN_KEEP_TMP});
chmod 0755, $dir;
my $pgport = free_port();
my $bsfile = "$dir/kafka.bootstrap";
my (%pids, $started_pg);

sub free_port {
	my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1) or die $!;
	my $p = $s->sockport;
	close $s;
	return $p;
}

sub spawn {
	my ($name, $env, @cmd) = @_;
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		$ENV{$_} = $env->{$_} for keys %$env;
		open STDOUT, '>>', "$dir/$name.log";
		open STDERR, '>&', \*STDOUT;
		exec @cmd or die "exec $cmd[0]: $!";
	}
	$pids{$name} = $pid;
	return $pid;
}

sub stop {
	my ($name, $sig) = @_;
	my $pid = delete $pids{$name} or return;
	kill $sig // 'TERM', $pid;
	waitpid $pid, 0;
}

# Waits are generous: the suite runs in parallel with others on busy cores.
sub wait_until {
	my ($what, $cond, $secs) = @_;
	my $end = time + ($secs // 60);
	while (time < $end) {
		my $v = $cond->();
		return $v if $v;
		sleep 0.05;
	}
	diag "gave up waiting for $what";
	return;
}

END {
	my $rc = $?;
	stop($_) for keys %pids;
	system "$src/tools/lab-postgres", 'stop', "$dir/pg" if $started_pg;
	# Test::More sets the exit status after this block: ask it directly.
	if (($rc || !Test::More->builder->is_passing) && -d $dir) {
		system "tail -n 40 $dir/*.log >&2";
	}
	$? = $rc;
}

# Postgres with a database for the test service.
$ENV{LAB_PG_FAST} = 1;
system("$src/tools/lab-postgres start $dir/pg $pgport >$dir/pg-start.log 2>&1") == 0
	or BAIL_OUT('postgres did not start: ' . `cat $dir/pg-start.log`);
$started_pg = 1;
system("$src/tools/lab-postgres create-db $dir/pg $pgport lectern_ev evsecret-123 >>$dir/pg-start.log 2>&1") == 0
	or BAIL_OUT('create-db failed');
my $dsn = "host=127.0.0.1 port=$pgport dbname=lectern_ev user=lectern_ev password=evsecret-123";
$ENV{LECTERN_DB_DSN} = $dsn;

sub sql {
	my ($q) = @_;
	my $out = `psql "$dsn" -XAtq -c "$q" 2>&1`;
	chomp $out;
	return $out;
}

my $tool = "$build/t/events/tool";
# Every shared migration, in order (the jobs' owners come from 003).
for my $sql (sort glob("$src/sql/common/*.sql")) {
	my $name = $sql =~ s{.*/}{}r;
	is(system($tool, 'schema', $sql), 0, "$name applied");
	is(system($tool, 'schema', $sql), 0, "$name runs twice (idempotent)");
}

spawn('broker', {}, "$build/lectern-broker", '--bootstrap-file', $bsfile);
ok(wait_until('bootstrap file', sub { -s $bsfile }), 'broker wrote its bootstrap file');
chomp(my $bs = `cat $bsfile`);
like($bs, qr/^127\.0\.0\.1:\d+$/, 'bootstrap address');
my $meta = `kcat -b $bs -L -t document.uploaded 2>&1`;
like($meta, qr/topic "document.uploaded" with 6 partitions/, 'topic created with its partition count');
like(`kcat -b $bs -L -t quiz.generated.dlq 2>&1`, qr/with 3 partitions/, 'dead-letter topic created');

my %wenv = (
	LECTERN_KAFKA_BOOTSTRAP_FILE => $bsfile,
	LECTERN_KAFKA_OPTIONS => 'fetch.wait.max.ms=10,session.timeout.ms=6000,heartbeat.interval.ms=500,'
		. 'reconnect.backoff.max.ms=500,topic.metadata.refresh.interval.ms=1000',
	LECTERN_KAFKA_MESSAGE_TIMEOUT_MS => 3000,
	LECTERN_JOB_LEASE_MS => 2000,
	LECTERN_JOB_IDLE_MS => 200,
	LECTERN_CONSUMER_MAX_ATTEMPTS => 2,
	LECTERN_CONSUMER_RETRY_MS => 50,
	LECTERN_HEALTH_INTERVAL_S => 1,
	LECTERN_LOG_LEVEL => 'info',
);
sub start_worker { spawn($_[0], \%wenv, "$build/t/events/worker") }

my $user = 'a3f0c6de-8f5e-4c9b-9a51-6f1d2e3c4b5a';
my @ids = split /\n/, `$tool publish 3 $user`;
is(scalar @ids, 3, 'three events recorded in the outbox');
start_worker('worker1');
ok(wait_until('outbox drained', sub { sql('SELECT count(*) FROM outbox WHERE sent_at IS NULL') eq '0' }),
	'the relay published every outbox row');
ok(wait_until('applied', sub { sql('SELECT count(*) FROM t_applied') eq '3' }), 'the consumer applied the three');

# A client that is not ours reads what we published.
my @msgs = map { decode_json($_) } grep { /^\{/ } split /\n/,
	`kcat -b $bs -C -t document.uploaded -o beginning -e -q -J 2>/dev/null`;
is(scalar @msgs, 3, 'kcat reads three messages');
my $m = $msgs[0];
my $env = decode_json($m->{payload});
is($m->{key}, $user, 'key is the user id');
like($env->{event_id}, qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'event_id is a UUID v4');
ok((grep { $_ eq $env->{event_id} } @ids), 'event_id is one we recorded');
is($env->{event_type}, 'document.uploaded', 'event_type is the topic');
is($env->{event_version}, '1.0', 'event_version');
like($env->{event_timestamp}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'event_timestamp RFC 3339 UTC');
is($env->{producer}, 'documents', 'producer');
is($env->{user_id}, $user, 'user_id');
is($env->{payload}{filename}, 'notes.pdf', 'payload');
is(join(',', sort keys %$env), 'event_id,event_timestamp,event_type,event_version,payload,producer,user_id',
	'exactly the envelope fields');

# The same event delivered twice is applied once.
open my $k, '|-', "kcat -b $bs -P -t document.uploaded -K '\t' 2>/dev/null" or die;
print $k "$user\t$m->{payload}\n";
close $k;
my ($marker) = split /\n/, `$tool publish 1 $user`;   # same key: same partition, after the copy
ok(wait_until('marker applied', sub { sql("SELECT count(*) FROM t_applied WHERE event_id = '$marker'") eq '1' }),
	'a later event of the same key was applied');
is(sql('SELECT count(*) FROM t_applied'), '4', 'the redelivered event was not applied again');
is(sql("SELECT count(*) FROM processed_events WHERE event_id = '$env->{event_id}'"), '1', 'recorded once');

# Poison: unparseable bytes, and an event whose effect keeps failing.
open $k, '|-', "kcat -b $bs -P -t document.uploaded -K '\t' 2>/dev/null" or die;
print $k "$user\tthis is not an envelope\n";
close $k;
my ($bad) = split /\n/, `$tool publish 1 $user poison`;
my ($after) = split /\n/, `$tool publish 1 $user`;
ok(wait_until('after poison', sub { sql("SELECT count(*) FROM t_applied WHERE event_id = '$after'") eq '1' }),
	'the partition moved on past both poison messages');
is(sql("SELECT count(*) FROM t_applied WHERE event_id = '$bad'"), '0', 'the failing event had no effect');
my @dlq = map { decode_json($_) } grep { /^\{/ } split /\n/,
	`kcat -b $bs -C -t document.uploaded.dlq -o beginning -e -q -J 2>/dev/null`;
is(scalar @dlq, 2, 'two messages in document.uploaded.dlq');
my %h0 = @{ $dlq[0]{headers} // [] };
my %h1 = @{ $dlq[1]{headers} // [] };
my ($junk) = grep { $_->{payload} eq 'this is not an envelope' } @dlq;
ok($junk, 'the unparseable bytes are kept as they were');
is($junk && $junk->{key}, $user, 'with their key');
my %hj = @{ ($junk // {})->{headers} // [] };
like($hj{'lectern-dlq-reason'} // '', qr/invalid envelope/, 'reason header for the unparseable message');
is($hj{'lectern-dlq-topic'}, 'document.uploaded', 'original topic header');
my ($fail) = grep { $_->{payload} =~ /\Q$bad\E/ } @dlq;
my %hf = @{ ($fail // {})->{headers} // [] };
like($hf{'lectern-dlq-reason'} // '', qr/failed 2 times/, 'reason header for the failing event');

# The broker goes away while events are recorded; nothing is lost. It comes
# back empty on new ports (its file says which); the worker follows the file.
stop('broker');
ok(!-e $bsfile, 'a stopped broker removes its bootstrap file');
my @down = split /\n/, `$tool publish 5 $user`;
is(scalar @down, 5, 'five events recorded while the broker is down');
sleep 1;
ok(sql('SELECT count(*) FROM outbox WHERE sent_at IS NULL') > 0, 'they wait in the outbox');
spawn('broker', {}, "$build/lectern-broker", '--bootstrap-file', $bsfile);
ok(wait_until('bootstrap file after restart', sub { -s $bsfile }), 'the restarted broker wrote its file');
chomp($bs = `cat $bsfile`);
like(`kcat -b $bs -L -t document.uploaded 2>&1`, qr/topic "document.uploaded" with 6 partitions/,
	'the restarted broker has its topics with their partition counts');
ok(wait_until('outbox drained after restart', sub { sql('SELECT count(*) FROM outbox WHERE sent_at IS NULL') eq '0' }, 120),
	'the relay published them after the broker returned');
my $list = join ',', map { "'$_'" } @down;
ok(wait_until('applied after restart', sub { sql("SELECT count(*) FROM t_applied WHERE event_id IN ($list)") eq '5' }, 120),
	'every one of them arrived and was applied');
like(`cat $dir/worker1.log`, qr/kafka bootstrap changed from \S+ to \Q$bs\E: reconnecting/,
	'the worker reconnected to the address in the file');
my @again = map { decode_json($_) } grep { /^\{/ } split /\n/,
	`kcat -b $bs -C -t document.uploaded -o beginning -e -q -J 2>/dev/null`;
my %seen = map { (decode_json($_->{payload})->{event_id} // '') => 1 } grep { $_->{payload} =~ /^\{/ } @again;
is(scalar(grep { $seen{$_} } @down), 5, 'kcat finds all five on the restarted broker');

# A broker that lost an idempotent producer's state answers "out of order
# sequence": that producer's error is fatal. The relay makes a new producer
# and publishes on; nothing is lost.
kill 'USR1', $pids{broker};
ok(wait_until('broker armed', sub { `cat $dir/broker.log` =~ /the next produce request fails/ }),
	'the broker will refuse the next produce request');
my @fatal = split /\n/, `$tool publish 2 $user`;
ok(wait_until('outbox drained after a fatal error', sub { sql('SELECT count(*) FROM outbox WHERE sent_at IS NULL') eq '0' }, 120),
	'the relay published them after a fatal producer error');
$list = join ',', map { "'$_'" } @fatal;
ok(wait_until('applied after a fatal error', sub { sql("SELECT count(*) FROM t_applied WHERE event_id IN ($list)") eq '2' }, 120),
	'both arrived and were applied');
my $wlog = `cat $dir/worker1.log`;
like($wlog, qr/fatal producer error/, 'the producer had a fatal error');
like($wlog, qr/making a new producer after a fatal error/, 'the relay made a new producer');

# A worker killed in the middle of a job: another takes it up, it completes once.
chomp(my $job = `$tool job-add 3000`);
ok(wait_until('job running', sub { sql("SELECT state FROM jobs WHERE id = '$job'") eq 'running' }), 'job running');
stop('worker1', 'KILL');
start_worker('worker2');
my $res = `$tool job-wait $job 60000`;
like($res, qr/^done completed 2$/, 'the job completed on its second attempt');
is(sql("SELECT count(*) FROM t_job_effects WHERE job_id = '$job'"), '1', 'its effect happened once');
is(sql("SELECT result->>'ok' FROM jobs WHERE id = '$job'"), 'true', 'result stored');

# A waiting request is woken when its job completes, and times out when not.
chomp(my $quick = `$tool job-add 300`);
like(`$tool job-wait $quick 30000`, qr/^done completed 1$/, 'the waiter was woken by the completion');
chomp(my $slow = `$tool job-add 5000`);
my $out = `$tool job-wait $slow 300`;
is($? >> 8, 3, 'a job not done in time answers "timeout" (the 202 case)');
like($out, qr/^timeout (queued|running) /, 'with its current state');
like(`$tool job-wait 00000000-0000-4000-8000-000000000000 100`, qr/^$/, 'no such job: no status');

# A job that fails for good: its kind's failure hook (where a service marks
# its resource failed and says so) runs once, after the last attempt only.
chomp(my $bad = `$tool job-add -1 2`);
ok(wait_until('first attempt failed', sub { sql("SELECT state || ' ' || attempts FROM jobs WHERE id = '$bad'") eq 'queued 1' }),
	'a failing job is retried');
is(sql("SELECT count(*) FROM t_job_failed WHERE job_id = '$bad'"), '0', 'the hook waits for the last attempt');
like(`$tool job-wait $bad 30000`, qr/^done failed 2$/, 'the job fails for good on its last attempt');
ok(wait_until('failure hook', sub { sql("SELECT count(*) FROM t_job_failed WHERE job_id = '$bad'") eq '1' }),
	'the failure hook ran once');

# A worker lost during the last attempt: the job is reaped as failed and the
# hook runs in the worker that reaps it.
chomp(my $last = `$tool job-add 20000 1`);
ok(wait_until('last attempt running', sub { sql("SELECT state FROM jobs WHERE id = '$last'") eq 'running' }),
	'a one-attempt job running');
stop('worker2', 'KILL');
start_worker('worker3');
ok(wait_until('reaped', sub { sql("SELECT state FROM jobs WHERE id = '$last'") eq 'failed' }, 60),
	'the lost last attempt is reaped as failed');
ok(wait_until('hook after reaping', sub { sql("SELECT count(*) FROM t_job_failed WHERE job_id = '$last'") eq '1' }),
	'the failure hook ran for it');
is(sql("SELECT why FROM t_job_failed WHERE job_id = '$last'"), 'the worker was lost during its last attempt',
	'with why');
is(sql("SELECT count(*) FROM t_job_effects WHERE job_id = '$last'"), '0', 'and no effect');

# Graceful stop: the worker releases or finishes the job in hand.
chomp(my $long = `$tool job-add 20000`);
ok(wait_until('long job running', sub { sql("SELECT state FROM jobs WHERE id = '$long'") eq 'running' }), 'long job running');
stop('worker3', 'TERM');
is(sql("SELECT state || ' ' || attempts FROM jobs WHERE id = '$long'"), 'queued 0', 'SIGTERM released the job in hand');

done_testing();
