# Quiz generations that run as jobs, at their ends: a job that fails every
# attempt (here the database refuses the quiz: a CHECK constraint the test
# adds) leaves its request "failed" with a sentence for the learner and
# quiz.generated "failed"; and finished requests are removed by the worker
# once older than LECTERN_QUIZ_REQUEST_RETENTION_HOURS (0 here: at the next
# job), while the quizzes they made stay; and a quiz deleted while its job
# stores it leaves nothing behind.
use strict;
use warnings;

use JSON::PP;
use Test::More;

use Lectern::Test qw(start_stack src_dir multipart_body wait_until prerequisite);

if (system('command -v psql >/dev/null 2>&1') != 0) {
	prerequisite(0, 'psql is not installed');
}

# More than 2 questions run as a job.
my $stack = start_stack(env => { LAB_RATE_LIMIT => 100000, LECTERN_QUIZ_JOB_QUESTIONS => 2,
	LECTERN_QUIZ_REQUEST_RETENTION_HOURS => 0 });
my $json = JSON::PP->new->canonical;
my $base = '/api/v1/quizzes';

my $dsn = `@{[src_dir()]}/tools/lab-postgres admin-dsn @{[$stack->dir]}/postgres @{[$stack->port('pg')]}`;
chomp $dsn;
$dsn =~ s/dbname=\S+/dbname=lectern_quiz/;
sub sql {
	open(my $fh, '-|', 'psql', $dsn, '-At', '-v', 'ON_ERROR_STOP=1', '-c', $_[0]) or die "psql: $!";
	my $out = join('', <$fh>);
	close $fh;
	$out =~ s/\s+\z//;
	return $out;
}

open(my $fh, '<:raw', src_dir() . '/t/quiz/course.md') or die "course.md: $!";
my $course = do { local $/; <$fh> };
close $fh;

my ($st, $body) = $stack->register('jobs@example.org', 'correct horse battery', 'Job Tester');
is($st, 201, 'registered');
my $token = $body->{token};
($st, $body) = $stack->register('other@example.org', 'correct horse battery', 'Other');
my $other = $body->{token};

sub auth { return { Authorization => "Bearer $_[0]", %{ $_[1] // {} } } }

# generate(TITLE, WAIT) -> (status, json): 4 questions from the course file.
sub generate {
	my ($title, $wait) = @_;
	my ($b, $ct) = multipart_body(['file', 'course.md', $course, 'text/markdown'],
		['num_questions', undef, 4], ['title', undef, $title], ['wait', undef, $wait]);
	my ($s, undef, $j) = $stack->request(POST => "$base/generate", auth($token, { 'Content-Type' => $ct }), $b);
	return ($s, $j);
}
sub get { my ($s, undef, $j) = $stack->request(GET => "$base/$_[0]", auth($_[1] // $token)); return ($s, $j) }
# made(TITLE) -> quiz: a job that succeeds, its 201, or (a slow machine
# outlasting the wait) its 202 and then the quiz at the status URL.
sub made {
	my ($s, $j) = generate($_[0], 30);
	if ($s == 202) {
		my $id = $j->{id} // '';
		$j = wait_until(sub { my ($gs, $gj) = get($id); $gs == 200 && $gj->{questions} ? $gj : undef }, 240);
		$s = $j ? 201 : 202;
	}
	is($s, 201, "a job makes the quiz \"$_[0]\"") or diag($json->encode($j // {}));
	return $j // {};
}

# --- a job that succeeds: its request is finished ------------------------------
my $made_id = made('Made by a job')->{id} // '';
is(sql("SELECT status FROM quiz_requests WHERE id = '$made_id'"), 'completed', 'its request is completed');

# --- a job that fails every attempt ----------------------------------------------
sql(q{ALTER TABLE quizzes ADD CONSTRAINT quiz_test_refused CHECK (title <> 'Refused by the database') NOT VALID});
($st, $body) = generate('Refused by the database', 0);
is($st, 202, 'a job that will fail is queued (202)') or diag($json->encode($body // {}));
my $failed_id = $body->{id} // '';
my $state = wait_until(sub {
	my ($s, $j) = get($failed_id);
	return ($s == 200 && ($j->{status} // '') eq 'failed') ? $j : undef;
}, 240);
ok($state, 'after its last attempt the request reads "failed"');
is($state->{error}, 'The quiz could not be generated; try again.', 'with a sentence for the learner');
is($state->{quiz_id}, $failed_id, 'and its quiz id');
my $job_state = "SELECT state || ' ' || attempts FROM jobs WHERE id = (SELECT job_id FROM quiz_requests WHERE id = '$failed_id')";
ok(wait_until(sub { sql($job_state) eq 'failed 3' }, 60), 'its job failed for good after 3 attempts')
	or diag(sql($job_state));
is(sql("SELECT status || ' ' || error_status FROM quiz_requests WHERE id = '$failed_id'"), 'failed 503',
	'the request is failed with status 503');
my @events = map { eval { $json->decode($_) } // {} } split /\n/,
	sql("SELECT body FROM outbox WHERE topic = 'quiz.generated' AND body LIKE '%$failed_id%'");
is(scalar @events, 1, 'one quiz.generated for it');
is($events[0]{payload}{status}, 'failed', 'quiz.generated says failed');
($st) = get($failed_id, $other);
is($st, 404, "another user's failed request answers 404");
($st, $body) = $stack->request(GET => "$base/$failed_id/results", auth($token));
is($st, 404, 'a quiz never made has no results');
# Waiting for such a job answers 503 (or 202 when the retries outlast the
# wait on a slow machine); GET /{id} then has the sentence.
($st, $body) = generate('Refused by the database', 30);
ok($st == 503 || $st == 202, "waiting for a failing job answers 503 or 202 (got $st)");
is($body->{error}, 'unavailable', 'a 503 in the contract\'s error shape') if $st == 503;
# Its id is in the 202; the 503 names none: its request is the other queued one.
my $second_failed = $body->{id}
	// sql("SELECT id FROM quiz_requests WHERE id NOT IN ('$made_id', '$failed_id')");
ok(wait_until(sub { my ($s, $j) = get($second_failed); $s == 200 && ($j->{status} // '') eq 'failed' }, 240),
	'the second failing request has failed too');
ok(wait_until(sub { sql("SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')") eq '0' }, 60),
	'no job is left running');
sql('ALTER TABLE quizzes DROP CONSTRAINT quiz_test_refused');

# --- retention 0: the next job removes finished requests, not their quizzes ------
my $later = made('After the failures')->{id} // '';
ok(wait_until(sub { sql("SELECT count(*) FROM quiz_requests WHERE id <> '$later'") eq '0' }, 60),
	'the finished requests were removed at a later job');
is(sql("SELECT count(*) FROM quiz_requests WHERE id = '$later'"), '1', 'not the request of the job running');
($st, $body) = get($made_id);
is($st, 200, 'a quiz made by a removed request stays');
is($body->{id}, $made_id, 'the same quiz');
($st) = get($failed_id);
is($st, 404, 'a removed failed request answers 404');

# --- deleted while its job stores it: nothing is left ----------------------------
# A trigger holds the worker inside its INSERT of the quiz; the delete comes
# then, and must remove the quiz the worker commits (or keep it from being made).
sql(q{CREATE FUNCTION quiz_test_slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
	IF NEW.title = 'Slow to store' THEN PERFORM pg_sleep(3); END IF; RETURN NEW; END $$});
sql('CREATE TRIGGER quiz_test_slow BEFORE INSERT ON quizzes FOR EACH ROW EXECUTE FUNCTION quiz_test_slow()');
($st, $body) = generate('Slow to store', 0);
is($st, 202, 'a slow quiz is queued (202)');
my $slow = $body->{id} // '';
ok(wait_until(sub { sql(q{SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'}) eq '1' }, 240),
	'its worker is storing the quiz');
($st) = $stack->request(DELETE => "$base/$slow", auth($token));
is($st, 200, 'the quiz being stored is deleted');
ok(wait_until(sub { sql("SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')") eq '0' }, 60),
	'its job is over');
($st) = get($slow);
is($st, 404, 'the deleted quiz answers 404 after its job');
is(sql("SELECT count(*) FROM quizzes WHERE id = '$slow'"), '0', 'no quiz row is left behind');
sql('DROP TRIGGER quiz_test_slow ON quizzes');

$stack->stop;
done_testing();
