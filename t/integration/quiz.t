# The quiz service and its worker through nginx: generation from an
# uploaded file (the [client] path: multipart, whole quiz in the 201) and
# from a document the quiz service learnt from document.processed, the
# [client] shapes, taking and grading, results, history with the best score,
# delete, other users, hostile requests, and quiz.requested/quiz.generated
# read back by a real Kafka client (kcat); large requests as a job with
# `wait`; and questions from a model (t/llm-peer.py), each checked, with the
# extractive engine standing in for those that fail.
use strict;
use warnings;

use File::Temp qw(tempdir);
use HTTP::Tiny;
use JSON::PP;
use Test::More;

use Lectern::Test qw(start_stack build_dir src_dir prerequisite skip_unless start_llm_peer slurp_file);

for my $tool (qw(kcat)) {
	if (system("command -v $tool >/dev/null 2>&1") != 0) {
		prerequisite(0, "$tool is not installed");
	}
}

# More than 12 questions run as a job here (20 by default), so the course
# text (15 questions at most) reaches the job path.
my $stack = start_stack(env => { LAB_RATE_LIMIT => 100000, LECTERN_QUIZ_JOB_QUESTIONS => 12 });
my $json = JSON::PP->new->canonical;
my $uuid_re = qr/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
my $time_re = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
my $base = '/api/v1/quizzes';

my $course = slurp_file(src_dir() . '/t/quiz/course.md');
my $files = tempdir('lectern-quiz-XXXXXX', TMPDIR => 1, CLEANUP => 1);
is(system(build_dir() . '/t/quiz/pdf', src_dir() . '/t/quiz/course.md', "$files/course.pdf"), 0,
	't/quiz/pdf wrote the course as a PDF');
my $pdf = slurp_file("$files/course.pdf");
# The course's text on one line per paragraph, to find sentences in.
(my $flat = $course) =~ s/\s+/ /g;

my ($alice, $alice_id) = $stack->user('alice@example.org');
my ($bob) = $stack->user('bob@example.org');

sub auth { return { Authorization => "Bearer $_[0]", %{ $_[1] // {} } } }
sub call { return $stack->request(@_) }

# generate_file(TOKEN, FILENAME, BYTES, FIELDS...) -> (status, headers, json)
sub generate_file {
	my ($token, $filename, $data, %fields) = @_;
	my ($st, $j, $h) = $stack->upload($token, $filename, $data, undef, { path => "$base/generate", fields => \%fields });
	return ($st, $h, $j);
}

# check_quiz(LABEL, QUIZ, N): the [client] shape and the corpus checks.
sub check_quiz {
	my ($label, $q, $n) = @_;
	like($q->{quiz_id} // '', $uuid_re, "$label: quiz_id");
	is($q->{id}, $q->{quiz_id}, "$label: id equals quiz_id");
	like($q->{created_at} // '', $time_re, "$label: created_at");
	is($q->{num_questions}, $n, "$label: num_questions");
	is(ref $q->{questions}, 'ARRAY', "$label: questions");
	is(scalar @{ $q->{questions} // [] }, $n, "$label: $n questions");
	my (%positions, %sources);
	my ($shape, $answers_in, $explained, $distinct) = (1, 1, 1, 1);
	for my $i (0 .. $#{ $q->{questions} }) {
		my $x = $q->{questions}[$i];
		$shape &&= $x->{id} == $i + 1 && $x->{question_id} =~ $uuid_re && $x->{question} eq $x->{question_text}
			&& $x->{type} =~ /^(multiple_choice|true_false|short_answer)$/ && ref $x->{options} eq 'ARRAY'
			&& $x->{points} == 1;
		if ($x->{type} eq 'short_answer') {
			$shape &&= !ref $x->{correct_answer} && length $x->{correct_answer} && !@{ $x->{options} };
			$answers_in &&= index(lc $flat, lc $x->{correct_answer}) >= 0;
		} else {
			my $c = $x->{correct_answer};
			$shape &&= defined $c && $c =~ /^\d+$/ && $c < @{ $x->{options} };
			$positions{$c}++ if $x->{type} eq 'multiple_choice';
			my $answer = $x->{options}[$c] // '';
			$answers_in &&= index(lc $flat, lc $answer) >= 0 if $x->{type} eq 'multiple_choice';
			$shape &&= "@{ $x->{options} }" eq 'True False' if $x->{type} eq 'true_false';
			my %o;
			$distinct &&= !$o{ lc $_ }++ for @{ $x->{options} };
		}
		my $src = $x->{source_sentence} // '';
		$explained &&= index($flat, $src) >= 0 && index($x->{explanation} // '', $src) == 0;
		$sources{$src}++;
		diag("$label: $x->{question}") if $ENV{QUIZ_SHOW};
	}
	ok($shape, "$label: every question has the [client] shape");
	ok($answers_in, "$label: each correct answer appears in the document's text");
	ok($explained, "$label: each explanation is a sentence of the document");
	ok($distinct, "$label: options are distinct");
	ok(!grep({ $_ > 1 } values %sources), "$label: no two questions from one sentence");
	my $mc = 0;
	$mc += $_ for values %positions;
	ok($mc < 4 || keys(%positions) >= 3, "$label: correct positions are spread ($mc choice questions)")
		or diag($json->encode(\%positions));
}

# --- generation from an uploaded file (the [client] path) --------------------
my ($st, $h, $q) = generate_file($alice, 'course.pdf', $pdf, num_questions => 10, difficulty => 'medium', title => 'Cells');
is($st, 201, 'a PDF upload answers 201 with the quiz') or diag($json->encode($q // {}));
is($q->{title}, 'Cells', 'title from the form');
is($q->{difficulty}, 'medium', 'difficulty from the form');
is($q->{document_id}, undef, 'no document_id for an uploaded file');
like($h->{location} // '', qr{^/api/v1/quizzes/\Q$q->{id}\E$}, 'Location');
check_quiz('pdf', $q, 10);
ok((grep { ($_->{explanation} // '') =~ /page [2-4]\b/ } @{ $q->{questions} }), 'explanations name the PDF page');
my $quiz = $q;

($st, undef, $q) = generate_file($alice, 'course.md', $course);
is($st, 201, 'a Markdown upload with no fields answers 201');
is($q->{num_questions}, 5, 'five questions by default');
is($q->{difficulty}, 'medium', 'medium by default');
is_deeply($q->{types}, ['multiple_choice', 'true_false'], 'choice and true/false by default');
ok(!grep({ $_->{type} eq 'short_answer' } @{ $q->{questions} }), 'no short answers by default');
like($q->{title}, qr/course\.md/, 'a title from the file name');
check_quiz('md', $q, 5);

($st, undef, $q) = generate_file($alice, 'course.txt', $course, num_questions => 6, types => 'short_answer', difficulty => 'hard');
is($st, 201, 'short answers only');
check_quiz('short', $q, 6);
ok(!grep({ $_->{type} ne 'short_answer' || @{ $_->{options} } } @{ $q->{questions} }), 'all short answers without options');
my $short = $q;

($st, undef, $q) = generate_file($alice, 'course.txt', $course, num_questions => 8, 'types[]' => 'true_false', difficulty => 'easy');
is($st, 201, 'true/false only');
my $truths = grep { $_->{correct_answer} == 0 } @{ $q->{questions} };
ok(!grep({ $_->{type} ne 'true_false' } @{ $q->{questions} }), 'all true/false');
ok($truths >= 3 && $truths <= 5, "about half are true ($truths of 8)");
check_quiz('tf', $q, 8);

# --- hostile generation --------------------------------------------------------
for my $n (0, 51, 'abc', -1, '5.5') {
	($st, undef, my $e) = generate_file($alice, 'course.md', $course, num_questions => $n);
	is($st, 400, "form num_questions=$n answers 400");
	is($e->{error}, 'invalid_request', "num_questions=$n: invalid_request");
}
($st, undef, my $e) = generate_file($alice, 'course.md', $course, difficulty => 'extreme');
is($st, 400, 'an unknown difficulty answers 400');
($st, undef, $e) = generate_file($alice, 'course.md', $course, types => 'essay');
is($st, 400, 'an unknown type answers 400');
($st, undef, $e) = generate_file($alice, 'x.bin', "\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0");
is($st, 415, 'a file of the wrong type answers 415');
like($e->{message} // '', qr/PDF/, 'saying which types are taken');
($st, undef, $e) = generate_file($alice, 'empty.txt', '');
is($st, 400, 'an empty file answers 400');
($st, undef, $e) = generate_file($alice, 'short.txt', "A short note.\n\nPhotosynthesis is the process plants use to make sugar from light.\n", num_questions => 10);
is($st, 422, 'a document too short for ten questions answers 422');
like($e->{message} // '', qr/too short .*can give [0-9]|too short for a quiz/, 'saying how many it can give') and note($e->{message});
($st, undef, $e) = generate_file($alice, 'bad.pdf', "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n");
is($st, 422, 'a PDF that cannot be read answers 422');
($st, undef, $e) = generate_file($alice, 'big.txt', 'x' x (26_214_400 + 65_536 + 10));
is($st, 413, 'an oversize file answers 413');
($st) = call(POST => "$base/generate", auth($alice, { 'Content-Type' => 'multipart/form-data; boundary=zz' }), "--zz\r\nnonsense");
is($st, 400, 'a malformed multipart body answers 400');
($st, undef, $e) = call(POST => "$base/generate", auth($alice), {});
is($st, 400, 'neither a file nor a document_id answers 400');
($st) = call(POST => "$base/generate", auth($alice, { 'Content-Type' => 'application/json' }), '[1,2]');
is($st, 400, 'a JSON body that is not an object answers 400');
($st) = call(POST => "$base/generate", auth($alice, { 'Content-Type' => 'application/json' }), '{"document_id":');
is($st, 400, 'malformed JSON answers 400');
for my $n (0, 51, 'abc') {
	($st) = call(POST => "$base/generate", auth($alice), { document_id => '00000000-0000-4000-8000-000000000000', num_questions => $n });
	is($st, 400, "JSON num_questions=$n answers 400");
}
($st) = call(POST => "$base/generate", auth($alice), { document_id => '00000000-0000-4000-8000-000000000000' });
is($st, 404, 'a missing document answers 404');
($st) = call(POST => "$base/generate", auth($alice), { document_id => 'not-a-uuid' });
is($st, 400, 'a malformed document_id answers 400');
($st) = call(POST => "$base/generate", {}, {});
is($st, 401, 'no token answers 401');

# --- generation from a document the quiz service learnt from events -----------
($st, my $doc) = $stack->upload($alice, 'cells.md', $course);
is($st, 201, 'the document uploaded');
is($doc->{status}, 'processed', 'and processed');
my $doc_id = $doc->{id};
my $from_doc;
for (1 .. 100) {
	($st, undef, $from_doc) = call(POST => "$base/generate", auth($alice), { document_id => $doc_id, num_questions => 7, types => ['multiple_choice', 'short_answer'] });
	last if $st != 404;
	select(undef, undef, undef, 0.2);
}
is($st, 201, 'generation from document_id answers 201 once the replica has it') or diag($json->encode($from_doc // {}));
is($from_doc->{document_id}, $doc_id, 'the quiz names its document');
check_quiz('document', $from_doc, 7);
($st) = call(POST => "$base/generate", auth($bob), { document_id => $doc_id });
is($st, 404, "another user's document answers 404");

# --- reading -----------------------------------------------------------------
my $id = $quiz->{id};
($st, undef, $q) = call(GET => "$base/$id", auth($alice));
is($st, 200, 'get answers 200');
is(scalar @{ $q->{questions} }, 10, 'with its questions');
ok(!grep({ exists $_->{correct_answer} || exists $_->{explanation} } @{ $q->{questions} }), 'without answers by default');
($st, undef, $q) = call(GET => "$base/$id?include_answers=true", auth($alice));
is_deeply([map { $_->{correct_answer} } @{ $q->{questions} }], [map { $_->{correct_answer} } @{ $quiz->{questions} }],
	'include_answers=true gives the answers');
ok(!grep({ !defined $_->{explanation} } @{ $q->{questions} }), 'and explanations');
($st) = call(GET => "$base/$id?include_answers=maybe", auth($alice));
is($st, 400, 'include_answers must be a boolean');

# --- submit ------------------------------------------------------------------
my @qs = @{ $quiz->{questions} };
my %all_right = map { ($_->{id} => $_->{correct_answer}) } @qs;
($st, undef, my $r) = call(POST => "$base/$id/submit", auth($alice), { answers => \%all_right });
is($st, 200, 'submit answers 200');
like($r->{submission_id} // '', $uuid_re, 'submission_id');
is($r->{quiz_id}, $id, 'quiz_id');
is($r->{score}, 10, 'all right by index: 10');
is($r->{max_score}, 10, 'max_score');
is($r->{percentage}, 100, 'percentage 100');
is(scalar @{ $r->{results} }, 10, 'a result per question');
my $r0 = $r->{results}[0];
is_deeply([sort keys %$r0], [sort qw(question_id id is_correct user_answer correct_answer explanation points_earned points_possible)],
	'results carry the contract fields');
ok($r0->{explanation} eq $qs[0]{explanation}, 'results explain with the source');

# By text and boolean, keyed by question_id; two left unanswered, one wrong.
my %mixed;
for my $i (0 .. $#qs) {
	my $x = $qs[$i];
	next if $i < 2;
	my $right = $x->{options}[ $x->{correct_answer} ];
	if ($i == 2) {
		$mixed{ $x->{question_id} } = ($x->{correct_answer} + 1) % @{ $x->{options} };
	} elsif ($x->{type} eq 'true_false') {
		$mixed{ $x->{question_id} } = $i % 2 ? ($x->{correct_answer} == 0 ? JSON::PP::true : JSON::PP::false) : lc $right;
	} else {
		$mixed{ $x->{question_id} } = "  \U$right  ";
	}
}
($st, undef, $r) = call(POST => "$base/$id/submit", auth($alice), { answers => \%mixed });
is($st, 200, 'a second attempt answers 200');
is($r->{score}, 7, 'by text, boolean and index; unanswered and wrong count as wrong');
is($r->{percentage}, 70, 'percentage 70');
ok(!$r->{results}[0]{is_correct} && !defined $r->{results}[0]{user_answer}, 'an unanswered question is wrong');
my $mixed_r = $r;

# Short answers, leniently.
my @sq = @{ $short->{questions} };
my %lenient = map { ($_->{id} => "The " . uc($_->{correct_answer}) . "!") } @sq;
$lenient{1} = 'certainly not this';
($st, undef, $r) = call(POST => "$base/$short->{id}/submit", auth($alice), { answers => \%lenient });
is($st, 200, 'short answers submitted');
is($r->{score}, 5, 'matched leniently (case, article, punctuation); one wrong');
my $typo = $sq[1]{correct_answer};
if ($typo =~ /^(\w*?)(\w)(\w)(\w{4,})$/ && $2 ne $3) {
	($st, undef, $r) = call(POST => "$base/$short->{id}/submit", auth($alice), { answers => { 2 => "$1$3$2$4" } });
	ok($r->{results}[1]{is_correct}, "one swapped pair of letters in '$typo' is forgiven");
}

# Malformed answers.
for my $bad (
	[{ answers => { 99 => 0 } }, 'a question the quiz does not have'],
	[{ answers => { '00000000-0000-4000-8000-000000000000' => 0 } }, 'an unknown question_id'],
	[{ answers => { 0 => 0 } }, 'question 0'],
	[{ answers => [0, 1] }, 'answers as an array'],
	[{ answers => 'abc' }, 'answers as a string'],
	[{}, 'no answers'],
	[{ answers => { 1 => { x => 1 } } }, 'an object as an answer'],
	[{ answers => { 1 => [1] } }, 'an array as an answer'],
	[{ answers => { 1 => 7 } }, 'an option index out of range'],
	[{ answers => { 1 => -1 } }, 'a negative option index'],
	[{ answers => { 1 => 1.5 } }, 'a fractional option index'],
	)
{
	my ($payload, $what) = @$bad;
	my ($s, undef, $b) = call(POST => "$base/$id/submit", auth($alice), $payload);
	is($s, 400, "$what answers 400");
	is($b->{error}, 'invalid_request', "$what: invalid_request") and note($b->{message});
}
($st) = call(POST => "$base/$id/submit", auth($alice, { 'Content-Type' => 'application/json' }), 'not json');
is($st, 400, 'a body that is not JSON answers 400');
($st) = call(POST => "$base/$id/submit", auth($alice, { 'Content-Type' => 'application/json' }), '{"answers":{"1":"' . ('a' x 70000) . '"}}');
is($st, 413, 'an oversize submission answers 413');

# --- results, list, history ----------------------------------------------------
($st, undef, $r) = call(GET => "$base/$id/results", auth($alice));
is($st, 200, 'results answer 200');
is($r->{quiz_id}, $id, 'results: quiz_id');
is($r->{title}, 'Cells', 'results: title');
is($r->{difficulty}, 'medium', 'results: difficulty');
is($r->{total_attempts}, 2, 'every attempt is kept');
is($r->{best_score}, 10, 'best_score');
is($r->{best_percentage}, 100, 'best_percentage');
is(scalar @{ $r->{submissions} }, 2, 'both submissions');
is($r->{submissions}[0]{score}, 7, 'newest first');
is_deeply($r->{submissions}[0]{results}, $mixed_r->{results}, 'an attempt\'s results read back as submit gave them');
like($r->{submissions}[0]{created_at} // '', $time_re, 'submission created_at');

for my $path ($base, "$base/", "$base/history") {
	($st, $h, my $list) = call(GET => $path, auth($alice));
	is($st, 200, "$path answers 200");
	is(ref $list, 'ARRAY', "$path is a bare array");
	is($h->{'x-total-count'}, 5, "$path: X-Total-Count");
	is($list->[0]{id}, $from_doc->{id}, "$path: newest first");
	my ($mine) = grep { $_->{id} eq $id } @$list;
	is($mine->{score}, 100, "$path: score is the best percentage");
	is($list->[0]{score}, undef, "$path: score is null before an attempt");
	ok(!exists $list->[0]{questions}, "$path: summaries leave the questions out");
}
($st, $h, my $page) = call(GET => "$base?limit=2&offset=1", auth($alice));
is(scalar @$page, 2, 'limit and offset');
like($h->{link} // '', qr/rel="next".*rel="prev"/, 'Link next and prev');
for my $qs ('limit=0', 'limit=101', 'offset=-1', 'limit=x') {
	($st) = call(GET => "$base?$qs", auth($alice));
	is($st, 400, "list with $qs answers 400");
}

# --- other users, no user, malformed ids ----------------------------------------
my ($missing_st, undef, $missing) = call(GET => "$base/00000000-0000-4000-8000-000000000000", auth($alice));
is($missing_st, 404, 'a missing quiz answers 404');
my @calls = ([GET => "$base/$id"], [GET => "$base/$id/results"], [POST => "$base/$id/submit", { answers => {} }], [DELETE => "$base/$id"]);
for my $c (@calls) {
	my ($s, undef, $b) = call($c->[0], $c->[1], auth($bob), $c->[2]);
	is($s, 404, "bob: $c->[0] $c->[1] answers 404");
	is($b->{message}, $missing->{message}, 'exactly as a missing one');
	($s) = call($c->[0], $c->[1], {}, $c->[2]);
	is($s, 401, "no token: $c->[0] $c->[1] answers 401");
}
($st, undef, my $bl) = call(GET => $base, auth($bob));
is_deeply($bl, [], "bob's list is empty");
for my $form ('not-a-uuid', "{$id}", "${id}0") {
	($st) = call(GET => "$base/$form", auth($alice));
	is($st, 404, "the id written as '$form' answers 404");
}

# --- the document deleted: its quizzes stay, new ones cannot be made -----------
($st) = call(DELETE => "/api/v1/documents/$doc_id", auth($alice));
is($st, 200, 'the document deleted');
for (1 .. 100) {
	($st) = call(POST => "$base/generate", auth($alice), { document_id => $doc_id });
	last if $st == 404;
	select(undef, undef, undef, 0.2);
}
is($st, 404, 'generating from a deleted document answers 404');
($st) = call(GET => "$base/$from_doc->{id}", auth($alice));
is($st, 200, 'a quiz of a deleted document stays in the history');

# --- delete ------------------------------------------------------------------
# (Generation above ran until the replica heard of the deletion.)
($st, $h) = call(GET => $base, auth($alice));
my $before = $h->{'x-total-count'};
($st, undef, $r) = call(DELETE => "$base/$id", auth($alice));
is($st, 200, 'delete answers 200');
is_deeply([sort keys %$r], ['message', 'quiz_id'], 'delete: message and quiz_id');
is($r->{quiz_id}, $id, 'delete: quiz_id');
($st) = call(GET => "$base/$id", auth($alice));
is($st, 404, 'the quiz is gone');
($st) = call(GET => "$base/$id/results", auth($alice));
is($st, 404, 'and its results');
for my $try (1 .. 4) { # whichever pool process (and its cache of questions) takes it
	($st) = call(POST => "$base/$id/submit", auth($alice), { answers => \%all_right });
	is($st, 404, "submitting to a deleted quiz answers 404 ($try)");
}
($st) = call(DELETE => "$base/$id", auth($alice));
is($st, 404, 'a second delete answers 404');
($st, $h) = call(GET => $base, auth($alice));
is($h->{'x-total-count'}, $before - 1, 'one quiz fewer in the list');

# --- events --------------------------------------------------------------------
sub wait_events { return $stack->wait_events(@_) }
my ($req) = wait_events('quiz.requested', sub { ($_[0]{payload}{quiz_id} // '') eq $from_doc->{id} });
ok($req, 'kcat reads quiz.requested');
is($req->{producer}, 'quiz', 'envelope producer');
is($req->{user_id}, $alice_id, 'envelope user_id');
is($req->{event_version}, '1.0', 'envelope event_version');
is_deeply([@{ $req->{payload} }{qw(document_id user_id num_questions difficulty)}], [$doc_id, $alice_id, 7, 'medium'],
	'quiz.requested payload');
my ($gen) = wait_events('quiz.generated', sub { ($_[0]{payload}{quiz_id} // '') eq $from_doc->{id} });
ok($gen, 'kcat reads quiz.generated');
is($gen->{payload}{status}, 'completed', 'quiz.generated: completed');
is($gen->{payload}{num_questions}, 7, 'quiz.generated: num_questions');
my @failed = wait_events('quiz.generated', sub { ($_[0]{payload}{status} // '') eq 'failed' });
ok(@failed >= 1, 'a document too short is announced as failed');

# --- large requests: a job, waited for ------------------------------------------
($st, $h, $q) = generate_file($alice, 'course.md', $course, num_questions => 14, types => 'multiple_choice,short_answer');
is($st, 201, 'a large request runs as a job and answers 201 within its wait') or diag($json->encode($q // {}));
check_quiz('job', $q, 14);
is($q->{generator}, 'extractive', 'the job used the extractive engine');
my $job_quiz = $q;
($st, $h, $q) = call(POST => "$base/generate?wait=0", auth($alice), { document_id => $doc_id, num_questions => 13 });
is($st, 404, 'a job for a deleted document is refused before it is queued');
($st, $h, $q) = generate_file($alice, 'course.md', $course, num_questions => 13, wait => 0);
is($st, 202, 'wait=0 answers 202 at once') or diag($json->encode($q // {}));
like($q->{status} // '', qr/^(queued|processing)$/, 'with the status');
is($q->{status_url}, "$base/$q->{id}", 'and its status URL');
is($h->{location}, "$base/$q->{id}", 'in Location too');
my $pending = $q->{id};
($st) = call(GET => "$base/$pending", auth($bob));
is($st, 404, "another user's pending quiz answers 404");
for (1 .. 300) {
	($st, undef, $q) = call(GET => "$base/$pending?include_answers=true", auth($alice));
	last if $st == 200;
	is($st, 202, 'a quiz being made answers 202') if $_ == 1;
	select(undef, undef, undef, 0.1);
}
is($st, 200, 'the status URL gives the quiz once made');
check_quiz('job-wait0', $q, 13);
($st, undef, $e) = generate_file($alice, 'course.md', $course, num_questions => 30, wait => 20);
is($st, 422, 'a job asking for more than the text gives answers 422');
like($e->{message} // '', qr/too short for 30 questions: it can give \d+/, 'saying how many it can give');
for my $w (31, -1, 'abc') {
	($st) = generate_file($alice, 'course.md', $course, num_questions => 13, wait => $w);
	is($st, 400, "wait=$w answers 400");
}
($st, undef, $e) = generate_file($alice, 'course.md', $course, num_questions => 13, wait => 0);
($st, undef, $r) = call(DELETE => "$base/$e->{id}", auth($alice));
is($st, 200, 'a quiz being made can be deleted');
my ($jreq) = wait_events('quiz.requested', sub { ($_[0]{payload}{quiz_id} // '') eq $job_quiz->{id} });
is($jreq->{payload}{num_questions}, 14, 'quiz.requested of a job');
my ($jgen) = wait_events('quiz.generated', sub { ($_[0]{payload}{quiz_id} // '') eq $job_quiz->{id} });
is($jgen->{payload}{status}, 'completed', 'quiz.generated of a job, from the worker');

$stack->stop;

# --- a model behind LECTERN_LLM_*: checked questions, extractive fallback --------
my ($peer, $llm_url) = start_llm_peer($files, 'quiz-llm-key');
(my $port = $llm_url) =~ s{^http://127\.0\.0\.1:(\d+)/v1$}{$1};
for my $mode ('quiz-bad', 'fail-500') {
	my $llm = start_stack(env => { LAB_RATE_LIMIT => 100000, LECTERN_LLM_BASE_URL => $llm_url,
		LECTERN_LLM_API_KEY => 'quiz-llm-key', LECTERN_LLM_MODEL => $mode, LECTERN_LLM_MAX_ATTEMPTS => 1 });
	my (undef, $reg) = $llm->register("llm-$mode\@example.org", 'correct horse battery', 'Model Tester');
	my ($s, $m) = $llm->upload($reg->{token}, 'course.md', $course, undef, { path => "$base/generate",
		fields => { num_questions => 9, types => 'multiple_choice,true_false,short_answer' } });
	is($s, 201, "$mode: generation with a model answers 201") or diag($json->encode($m // {}));
	check_quiz("llm $mode", $m, 9);
	my $from_model = grep { $_->{question} =~ /^Model:/ } @{ $m->{questions} };
	if ($mode eq 'quiz-bad') {
		is($m->{generator}, 'llm:quiz-bad', 'quiz-bad: the generator names the model');
		ok($from_model >= 4, "quiz-bad: the model's sound questions are kept ($from_model of 9)");
		ok(!grep({ $m->{questions}[$_]{question} =~ /^Model:/ } 0 .. 2),
			'quiz-bad: the three failing ones (unsupported answer, repeated options, index out of range) are extractive')
			or diag(join "\n", map { $_->{question} } @{ $m->{questions} });
		ok(!grep({ "@{ $_->{options} } $_->{correct_answer}" =~ /Zanzibar|same same/ || $_->{question} =~ /asked twice/ } @{ $m->{questions} }),
			'quiz-bad: nothing of a refused question is kept');
		my $last = eval { JSON::PP->new->decode(HTTP::Tiny->new->get("http://127.0.0.1:$port/_peer/last")->{content}) } // {};
		like($last->{messages}[1]{content} // '', qr/^\[1\] \w+ \(section: .*\n\Q$m->{questions}[0]{source_sentence}\E$/m,
			'the model was given each source sentence with its type and section');
	} else {
		is($m->{generator}, 'extractive', 'fail-500: a failing model leaves the extractive quiz');
		is($from_model, 0, 'fail-500: no question from the model');
	}
	my %right = map { ($_->{id} => $_->{correct_answer}) } @{ $m->{questions} };
	($s, undef, my $g) = $llm->request(POST => "$base/$m->{id}/submit", { Authorization => "Bearer $reg->{token}" }, { answers => \%right });
	is($g->{score}, 9, "$mode: the model's questions grade right");
	$llm->stop;
}
kill 'TERM', $peer;
waitpid($peer, 0);

done_testing();
