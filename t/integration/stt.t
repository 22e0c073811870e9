# The speech-to-text service and its worker through nginx: speech the test
# makes (flite's slt voice reading known sentences, then ffmpeg to every
# accepted container and codec), transcribed with word times and
# confidences; the wait of the web client (none sent: the default covers a
# short recording) and 202 with polling; list, status, delete with the
# audio; other users' transcriptions; hostile files and bodies; the
# audio.transcription.* events a real Kafka client (kcat) reads; a course
# term heard once the learner's document reached the worker; the retention
# sweep of old audio.
use strict;
use warnings;

use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;

use Lectern::Test qw(start_stack src_dir prerequisite skip_unless slurp_file wait_until);

for my $tool (qw(flite ffmpeg kcat psql)) {
	if (system("command -v $tool >/dev/null 2>&1") != 0) {
		prerequisite(0, "$tool is not installed");
	}
}

# pocketsphinx transcribed these sentences without an error in every
# container when measured (0.0% word error rate); the bound leaves room for a
# word lost to a codec, not for a broken pipeline.
my $WER_MAX = 0.10;
my @sentences = (
	'The quick brown fox jumps over the lazy dog.',
	'Photosynthesis converts light energy into chemical energy.',
	'Students should read the chapter before the next lecture.',
	'The history of science is full of surprising discoveries.',
);
my $spoken = join(' ', @sentences);

my $dir = tempdir('lectern-stt-XXXXXX', TMPDIR => 1, CLEANUP => 1);
sub run_ok {
	my ($what, @cmd) = @_;
	is(system(@cmd), 0, $what);
}
run_ok('flite reads the sentences', 'flite', '-voice', 'slt', '-t', $spoken, '-o', "$dir/speech.wav");
my %encode = (
	'speech.mp3'  => [qw(-c:a libmp3lame -b:a 64k)],
	'speech.ogg'  => [qw(-c:a libvorbis)],
	'opus.ogg'    => [qw(-c:a libopus)],
	'speech.flac' => [qw(-c:a flac)],
	'speech.webm' => [qw(-c:a libopus)],
	'speech.m4a'  => [qw(-c:a aac)],
);
for my $name (sort keys %encode) {
	run_ok("ffmpeg makes $name", 'ffmpeg', '-loglevel', 'error', '-y', '-i', "$dir/speech.wav",
		@{ $encode{$name} }, "$dir/$name");
}
# Longer than the stack's duration limit (60 s), and a file that inflates:
# 20 minutes of silence in a few kilobytes of FLAC.
run_ok('ffmpeg makes 70 s of speech-free audio', 'ffmpeg', '-loglevel', 'error', '-y', '-f', 'lavfi',
	'-i', 'sine=frequency=440:duration=70:sample_rate=8000', "$dir/long.wav");
run_ok('ffmpeg makes 20 minutes of silence as FLAC', 'ffmpeg', '-loglevel', 'error', '-y', '-f', 'lavfi',
	'-i', 'anullsrc=r=48000:cl=stereo', '-t', '1200', '-c:a', 'flac', "$dir/bomb.flac");

my $stack = start_stack(env => {
	LAB_RATE_LIMIT      => 100000,
	LAB_STT_MAX_BYTES   => 2 * 1024 * 1024,
	LAB_STT_MAX_SECONDS => 60,
});
my $json = JSON::PP->new->canonical;
my $uuid_re = qr/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
my $time_re = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
my $base = '/api/v1/stt';

my ($alice, $alice_id) = $stack->user('alice@example.org');
my ($bob) = $stack->user('bob@example.org');

sub auth { return { Authorization => "Bearer $_[0]", %{ $_[1] // {} } } }
sub call { return $stack->request(@_) }

# transcribe(TOKEN, FILENAME, BYTES, {field => value}, PART) -> (status, headers, json)
sub transcribe {
	my ($token, $filename, $data, $fields, $part) = @_;
	my ($st, $j, $h) = $stack->upload($token, $filename, $data, undef,
		{ path => "$base/transcribe", part => $part // 'audio', fields => $fields });
	return ($st, $h, $j);
}

sub words_of { my $t = lc($_[0] // ''); $t =~ s/[^a-z' ]+/ /g; return grep { length } split / +/, $t }

# Word error rate of HYP against REF: word-level edit distance / words of REF.
sub wer {
	my @r = words_of($_[0]);
	my @h = words_of($_[1]);
	my @prev = (0 .. @h);
	for my $i (1 .. @r) {
		my @cur = ($i);
		for my $j (1 .. @h) {
			my $sub = $prev[ $j - 1 ] + ($r[ $i - 1 ] eq $h[ $j - 1 ] ? 0 : 1);
			my $del = $prev[$j] + 1;
			my $ins = $cur[ $j - 1 ] + 1;
			my $m = $sub < $del ? $sub : $del;
			push @cur, $m < $ins ? $m : $ins;
		}
		@prev = @cur;
	}
	return $prev[-1] / (@r || 1);
}

# Checks a completed transcription of the spoken sentences.
sub check_transcript {
	my ($name, $t) = @_;
	is($t->{status}, 'completed', "$name: completed") or diag($json->encode($t));
	like($t->{task_id} // '', $uuid_re, "$name: task_id");
	is($t->{id}, $t->{task_id}, "$name: id is task_id");
	is($t->{transcript}, $t->{text}, "$name: transcript is text");
	is($t->{language}, 'en-US', "$name: language");
	my $w = wer($spoken, $t->{text});
	cmp_ok($w, '<=', $WER_MAX, sprintf('%s: word error rate %.1f%% (%s)', $name, 100 * $w, $t->{text} // ''));
	ok($t->{duration_seconds} > 10 && $t->{duration_seconds} < 30, "$name: duration $t->{duration_seconds} s");
	ok($t->{confidence} > 0 && $t->{confidence} <= 1, "$name: confidence $t->{confidence} in (0, 1]");
	my @words = @{ $t->{words} // [] };
	cmp_ok(scalar(@words), '>=', 20, "$name: words with times");
	my ($ordered, $inside, $conf, $same) = (1, 1, 1, 1);
	my $last = -1;
	for my $x (@words) {
		$ordered = 0 unless $x->{start} > $last && $x->{end} > $x->{start};
		$inside = 0 unless $x->{start} >= 0 && $x->{end} <= $t->{duration_seconds} + 0.05;
		$conf = 0 unless $x->{confidence} >= 0 && $x->{confidence} <= 1;
		$last = $x->{start};
	}
	ok($ordered, "$name: word times increase");
	ok($inside, "$name: word times are inside the duration");
	ok($conf, "$name: word confidences in 0..1");
	is(join(' ', map { $_->{word} } @words), $t->{text}, "$name: the words make the text");
	ok(exists $t->{speakers} && !defined $t->{speakers}, "$name: speakers is null");
	ok(exists $t->{error} && !defined $t->{error}, "$name: error is null");
	like($t->{created_at} // '', $time_re, "$name: created_at");
	like($t->{completed_at} // '', $time_re, "$name: completed_at");
}

# The finished transcription: the answer itself when it is 200, else what
# polling its status_url finds (the machine may be too loaded for `wait`).
sub finished {
	my ($token, $st, $t) = @_;
	return $t if $st == 200;
	my $polled = {};
	for (1 .. 600) {
		(undef, undef, $polled) = call(GET => $t->{status_url} // '/none', auth($token));
		last if ($polled->{status} // '') =~ /^(completed|failed)$/;
		select(undef, undef, undef, 0.2);
	}
	return $polled;
}

# --- a short browser recording (WebM/Opus), no `wait`: 200 with the words ----
run_ok('flite reads one sentence', 'flite', '-voice', 'slt', '-t', $sentences[0], '-o', "$dir/short.wav");
run_ok('ffmpeg makes a WebM/Opus recording of it', 'ffmpeg', '-loglevel', 'error', '-y', '-i',
	"$dir/short.wav", '-c:a', 'libopus', "$dir/short.webm");
my ($st, $h, $t) = transcribe($alice, 'blob', slurp_file("$dir/short.webm"));
is($st, 200, 'a short WebM recording without `wait` answers 200 with the transcription')
	or diag($json->encode($t // {}));
is($t->{status}, 'completed', 'short recording: completed');
cmp_ok(wer($sentences[0], $t->{text}), '<=', $WER_MAX, "short recording: $t->{text}");

# --- every container -----------------------------------------------------------
my %task;
for my $name ('speech.wav', sort keys %encode) {
	($st, $h, $t) = transcribe($alice, $name, slurp_file("$dir/$name"), { wait => 20 });
	ok($st == 200 || $st == 202, "$name: 200, or 202 on a loaded machine") or diag($json->encode($t // {}));
	$t = finished($alice, $st, $t);
	check_transcript($name, $t // {});
	$task{$name} = $t->{task_id};
}

# --- 202, Location and polling -----------------------------------------------
($st, $h, $t) = transcribe($alice, 'later.wav', slurp_file("$dir/speech.wav"), { wait => 0 });
is($st, 202, 'wait=0 answers 202');
is($t->{status}, 'processing', '202: status processing');
like($t->{task_id} // '', $uuid_re, '202: task_id');
is($t->{status_url}, "$base/status/$t->{task_id}", '202: status_url');
is($h->{location}, $t->{status_url}, '202: Location');
check_transcript('polled', finished($alice, $st, $t));

# --- language -----------------------------------------------------------------
($st, $h, $t) = transcribe($alice, 'fr.wav', slurp_file("$dir/speech.wav"), { language => 'fr-FR' });
is($st, 422, 'a language the engine lacks answers 422');
like($t->{message} // '', qr/fr-FR.*en-US/, '422 names the language and the ones there are');
($st, $h, $t) = transcribe($alice, 'en.wav', slurp_file("$dir/short.wav"), { language => 'en-US', wait => 20 });
ok($st == 200 || $st == 202, 'language=en-US is taken');
is(finished($alice, $st, $t)->{status}, 'completed', 'and transcribed');

# --- list, other users, delete -----------------------------------------------
($st, $h, my $list) = call(GET => "$base/transcriptions", auth($alice));
is($st, 200, 'list answers 200');
is(ref $list, 'ARRAY', 'the list is a bare array');
is($h->{'x-total-count'}, scalar(keys %task) + 3, 'X-Total-Count counts every transcription');
ok(!(grep { length($_->{text} // '') > 200 } @$list), 'list texts are at most 200 characters');
ok(!(grep { exists $_->{words} } @$list), 'the list leaves the words out');
($st, $h, $list) = call(GET => "$base/transcriptions", auth($bob));
is_deeply($list, [], "bob's list is empty");
my $victim = $task{'speech.wav'};
($st) = call(GET => "$base/status/$victim", auth($bob));
is($st, 404, "another user's transcription answers 404");
($st) = call(DELETE => "$base/transcriptions/$victim", auth($bob));
is($st, 404, "another user cannot delete it (404)");
($st) = call(GET => "$base/status/not-a-uuid", auth($alice));
is($st, 404, 'a malformed id answers 404');
($st) = call(GET => "$base/transcriptions");
is($st, 401, 'no token answers 401');
my $stored = $stack->dir . "/store/stt/$alice_id/$victim/audio";
ok(-e $stored, 'the audio is stored');
($st, $h, $t) = call(DELETE => "$base/transcriptions/$victim", auth($alice));
is($st, 200, 'delete answers 200');
is($t->{task_id}, $victim, 'delete: task_id');
ok(length($t->{message} // ''), 'delete: message');
ok(!-e $stored, 'the audio is gone');
($st) = call(GET => "$base/status/$victim", auth($alice));
is($st, 404, 'a deleted transcription answers 404');
($st) = call(DELETE => "$base/transcriptions/$victim", auth($alice));
is($st, 404, 'a second delete answers 404');

# --- progress inside long audio ------------------------------------------------
# 50 s of speech is cut into several pieces; the recogniser reports after
# each, and the job's heartbeat stores it (at least every 2 s).
run_ok('ffmpeg makes 50 s of speech', 'ffmpeg', '-loglevel', 'error', '-y', '-stream_loop', '2',
	'-i', "$dir/speech.wav", '-t', '50', "$dir/fifty.wav");
($st, $h, $t) = transcribe($alice, 'fifty.wav', slurp_file("$dir/fifty.wav"), { wait => 0 });
is($st, 202, '50 s of speech with wait=0 answers 202');
my @seen;
for (1 .. 3000) {
	(undef, undef, my $p) = call(GET => $t->{status_url} // '/none', auth($alice));
	my $at = $p->{progress} // -1;
	push @seen, $at if !@seen || $seen[-1] != $at;
	last if ($p->{status} // '') =~ /^(completed|failed)$/;
	select(undef, undef, undef, 0.1);
}
my $seen = join(', ', @seen);
ok(!(grep { $seen[$_] < $seen[ $_ - 1 ] } 1 .. $#seen), "progress never goes back ($seen)");
is($seen[-1], 100, 'and is 100 once done');
ok((grep { $_ > 10 && $_ < 100 } @seen), 'a progress inside the audio was seen');

# --- hostile files and bodies --------------------------------------------------
my $mp3 = slurp_file("$dir/speech.mp3");
($st, $h, $t) = transcribe($alice, 'cut.mp3', substr($mp3, 0, int(length($mp3) / 2)), { wait => 20 });
ok($st == 200 || $st == 202, 'a truncated MP3 is taken');
$t = finished($alice, $st, $t);
is($t->{status}, 'failed', 'and its transcription fails');
like($t->{error} // '', qr/truncated/, "with a clear error ($t->{error})");
($st, $h, $t) = transcribe($alice, 'notes.wav', "These are my notes, not audio.\n" x 20);
is($st, 415, 'text renamed .wav answers 415');
is($t->{error}, 'unsupported_media_type', '415 error code');
my $wav = slurp_file("$dir/speech.wav");
($st, $h, $t) = transcribe($alice, 'noise.wav', substr($wav, 0, 44) . join('', map { chr(int(rand(256))) } 1 .. 50000) . ('x' x 1000), { wait => 20 });
$t = finished($alice, $st, $t);
like($t->{status} // '', qr/^(completed|failed)$/, 'a WAV header over garbage ends in a state, not a crash');
($st, $h, $t) = transcribe($alice, 'garbage.webm', "\x1a\x45\xdf\xa3" . join('', map { chr(int(rand(256))) } 1 .. 20000), { wait => 20 });
ok($st == 200 || $st == 202, 'a WebM header over garbage is taken');
$t = finished($alice, $st, $t);
is($t->{status}, 'failed', 'and fails');
ok(length($t->{error} // ''), "with an error ($t->{error})");
($st, $h, $t) = transcribe($alice, 'empty.wav', '');
is($st, 400, 'an empty file answers 400');
($st, $h, $t) = transcribe($alice, 'big.wav', substr($wav, 0, 44) . ("\0" x (2 * 1024 * 1024 + 100)));
is($st, 413, 'a file over the limit (2 MiB here) answers 413');
is($t->{error}, 'payload_too_large', '413 error code');
($st, $h, $t) = transcribe($alice, 'long.wav', slurp_file("$dir/long.wav"), { wait => 20 });
ok($st == 200 || $st == 202, 'audio longer than the duration limit is taken');
$t = finished($alice, $st, $t);
is($t->{status}, 'failed', 'and fails');
like($t->{error} // '', qr/longer than 60 seconds/, "with the limit ($t->{error})");
($st, $h, $t) = transcribe($alice, 'bomb.flac', slurp_file("$dir/bomb.flac"), { wait => 20 });
ok($st == 200 || $st == 202, 'a FLAC that inflates to 20 minutes is taken');
$t = finished($alice, $st, $t);
is($t->{status}, 'failed', 'and fails');
like($t->{error} // '', qr/longer than 60 seconds/, "at the duration limit ($t->{error})");
($st, $h, $t) = transcribe($alice, 'speech.wav', $wav, {}, 'document');
is($st, 400, 'the wrong part name answers 400');
like($t->{message} // '', qr/audio/, 'naming the part');
($st, $h, $t) = transcribe($alice, 'speech.wav', $wav, { wait => 31 });
is($st, 400, 'wait=31 answers 400');
($st, $h, $t) = call(POST => "$base/transcribe", auth($alice, { 'Content-Type' => 'application/json' }), '{}');
is($st, 415, 'a JSON body answers 415');
($st, $h, $t) = transcribe($alice, 'again.webm', slurp_file("$dir/short.webm"), { wait => 20 });
$t = finished($alice, $st, $t);
is($t->{status}, 'completed', 'the worker still transcribes after all that');

# --- the retention sweep --------------------------------------------------------
# The audio of a transcription completed longer ago than the retention period
# (168 hours by default) is removed at the next job; the transcription stays.
my $dsn = `@{[src_dir()]}/tools/lab-postgres admin-dsn @{[$stack->dir]}/postgres @{[$stack->port('pg')]}`;
chomp $dsn;
$dsn =~ s/dbname=\S+/dbname=lectern_stt/;
my ($old, $recent) = ($task{'speech.ogg'}, $task{'speech.m4a'});
my $old_audio = $stack->dir . "/store/stt/$alice_id/$old/audio";
my $recent_audio = $stack->dir . "/store/stt/$alice_id/$recent/audio";
ok(-e $old_audio && -e $recent_audio, 'two audio files are stored');
my $aged = `psql "$dsn" -At -c "UPDATE transcriptions SET completed_at = now() - interval '169 hours' WHERE id = '$old' RETURNING id" 2>&1`;
like($aged, qr/^\Q$old\E$/m, 'one transcription is made 169 hours old') or diag($aged);

# --- tuned to the course -------------------------------------------------------
# "glycolysis" is not in the general dictionary: bob, who has no documents,
# cannot be heard saying it; alice's document uses it, and once
# document.processed reached the stt worker (its replica), she is.
my $course_said = 'Glycolysis takes place in the cytoplasm of the cell.';
run_ok('flite reads a course sentence', 'flite', '-voice', 'slt', '-t', $course_said, '-o', "$dir/course.wav");
my $course_wav = slurp_file("$dir/course.wav");
($st, $h, $t) = transcribe($bob, 'course.wav', $course_wav, { wait => 20 });
$t = finished($bob, $st, $t);
is($t->{status}, 'completed', 'without documents: completed');
is($t->{engine}, 'pocketsphinx', 'without documents: the general model');
unlike($t->{text} // '', qr/\bglycolysis\b/, "without documents the term is not heard ($t->{text})");
# The sweep follows the job's completion, so the answer can come first.
ok(wait_until(sub { !-e $old_audio }, 30), 'the sweep removed the audio older than the retention period');
ok(-e $recent_audio, 'and kept the recent one');
($st, $h, $t) = call(GET => "$base/status/$old", auth($alice));
is($st, 200, 'the swept transcription is still there');
ok(length($t->{text} // ''), 'with its text');

my $document = join("\n\n",
	'# Energy in the cell',
	'Cells break sugar down to release the energy it holds.',
	'The first stage is called glycolysis.',
	'Glycolysis takes place in the cytoplasm of the cell.',
	'Glycolysis splits one molecule of glucose into two molecules of pyruvate.',
	'The rest of the work is done inside the mitochondria.');
my $doc_id;
{
	($st, $t) = $stack->upload($alice, 'energy.md', $document, 'text/markdown');
	is($st, 201, 'alice uploads a document that uses the term') or diag($json->encode($t // {}));
	$doc_id = $t->{document_id} // 'none';
}
my $tuned;
for (1 .. 40) {
	($st, $h, $t) = transcribe($alice, 'course.wav', $course_wav, { wait => 20 });
	$t = finished($alice, $st, $t);
	if (($t->{engine} // '') eq 'pocketsphinx+course') {
		$tuned = $t;
		last;
	}
	sleep 2;
}
ok($tuned, 'the worker learned the document and tuned the recogniser to it');
like($tuned->{text} // '', qr/\bglycolysis\b/, "the course term is heard ($tuned->{text})");
cmp_ok(wer($course_said, $tuned->{text}), '<=', $WER_MAX, 'the course sentence is heard right');
my ($term) = grep { $_->{word} eq 'glycolysis' } @{ $tuned->{words} // [] };
ok($term && $term->{end} > $term->{start}, 'the term has its times');
# Deleted, the document leaves the model (document.deleted, the replica's
# tombstone): the general model again.
($st) = call(DELETE => "/api/v1/documents/$doc_id", auth($alice));
is($st, 200, 'alice deletes the document');
my $untuned;
for (1 .. 40) {
	($st, $h, $t) = transcribe($alice, 'course.wav', $course_wav, { wait => 20 });
	$t = finished($alice, $st, $t);
	if (($t->{engine} // '') eq 'pocketsphinx') {
		$untuned = $t;
		last;
	}
	sleep 2;
}
ok($untuned, 'once the worker heard of the deletion, the general model alone');

# --- events ------------------------------------------------------------------
sub events { return $stack->wait_events(@_) }
my $flac = $task{'speech.flac'};
my ($rq) = events('audio.transcription.requested', sub { ($_[0]{payload}{task_id} // '') eq $flac });
ok($rq, 'kcat reads audio.transcription.requested');
is($rq->{producer}, 'stt', 'envelope producer');
is($rq->{user_id}, $alice_id, 'envelope user_id');
is($rq->{payload}{language}, 'en-US', 'requested: language');
is($rq->{payload}{content_type}, 'audio/flac', 'requested: content_type from the bytes');
ok($rq->{payload}{file_size} > 0, 'requested: file_size');
my ($done) = events('audio.transcription.completed', sub { ($_[0]{payload}{task_id} // '') eq $flac });
ok($done, 'kcat reads audio.transcription.completed');
is($done->{payload}{status}, 'completed', 'completed: status');
ok(wer($spoken, $done->{payload}{text}) <= $WER_MAX, 'completed: text');
ok($done->{payload}{duration_seconds} > 10, 'completed: duration_seconds');
ok(defined $done->{payload}{confidence}, 'completed: confidence');
my ($failed) = events('audio.transcription.completed', sub { ($_[0]{payload}{status} // '') eq 'failed' });
ok($failed && length($failed->{payload}{error} // ''), 'a failed transcription is published with its error');

$stack->stop;
done_testing();
