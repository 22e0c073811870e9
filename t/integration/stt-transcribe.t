# Speech to text with Amazon Transcribe as a user meets it: through nginx,
# with the stack's S3 store (s3rver behind the lab's signature check) and
# LECTERN_STT_ENGINE=transcribe. t/transcribe-peer.py checks every signature
# of the worker's Transcribe calls with the lab's keys, reads the audio and
# the course vocabulary from s3rver and writes its transcript there, as
# Transcribe does with the bucket. Checked: the answer (text, word times and
# confidences, speaker turns, engine), list, status, other users, delete with
# the audio, the course's custom vocabulary once document.processed reached
# the worker, a file that is not audio refused before Transcribe is called,
# nothing of a job left in the bucket or with Transcribe, the events, and
# Transcribe refusing the keys failing the transcription with that reason.
use strict;
use warnings;

use File::Temp qw(tempdir);
use HTTP::Tiny;
use JSON::PP;
use Test::More;

use Lectern::Test qw(start_stack src_dir wait_until start_peer stop_peer slurp_file python_has);

BAIL_OUT('python3-botocore is not installed (tools/packages.txt)') unless python_has('botocore');
for my $tool (qw(flite kcat)) {
	BAIL_OUT("$tool is not installed (tools/packages.txt)") if system("command -v $tool >/dev/null 2>&1") != 0;
}
my $s3rver = $ENV{LECTERN_S3RVER} // src_dir() . '/t/node_modules/.bin/s3rver';
BAIL_OUT('s3rver is not installed (npm ci in t/)') unless -x $s3rver;

my $dir = tempdir('lectern-stt-transcribe-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $base = '/api/v1/stt';
my $json = JSON::PP->new->canonical;
my $http = HTTP::Tiny->new(timeout => 30);
my $uuid_re = qr/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
my $time_re = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

# The peer's transcript (t/transcribe-peer.py's SPOKEN): word, start, end,
# confidence, speaker. flite reads the same sentences, so the audio and the
# answer agree, though the peer does not listen.
my $said = 'Cells are the units of life. Glycolysis splits glucose.';
my @spoken = (['Cells', 0.04, 0.42, 0.998, 'spk_0'], ['are', 0.42, 0.61, 0.991, 'spk_0'],
	['the', 0.61, 0.70, 0.999, 'spk_0'], ['units', 0.70, 1.12, 0.87, 'spk_0'],
	['of', 1.12, 1.25, 1.0, 'spk_0'], ['life', 1.25, 1.80, 0.95, 'spk_0'],
	['Lycos', 2.30, 2.71, 0.64, 'spk_1'], ['splits', 2.71, 3.05, 0.9, 'spk_1'],
	['glucose', 3.05, 3.60, 0.93, 'spk_1']);
is(system('flite', '-voice', 'slt', '-t', $said, '-o', "$dir/speech.wav"), 0, 'flite reads the sentences');
my $wav = slurp_file("$dir/speech.wav") // '';

# The length of a PCM WAV from its header: data bytes over bytes a second.
sub wav_seconds {
	my ($data) = @_;
	my ($pos, $rate) = (12, 0);
	while ($pos + 8 <= length $data) {
		my ($id, $len) = unpack('a4 V', substr($data, $pos, 8));
		$rate = unpack('V', substr($data, $pos + 16, 4)) if $id eq 'fmt ';
		return $len / $rate if $id eq 'data' && $rate;
		$pos += 8 + $len + ($len & 1);
	}
	return -1;
}
my $seconds = wav_seconds($wav);
ok($seconds > 2, "the speech lasts $seconds s");

# The lab gives the services its AWS keys: the peer starts after the stack,
# with those keys, on a port chosen before.
my ($pport) = Lectern::Test::free_ports(1);
my $stack = start_stack(s3 => 1, env => {
	LECTERN_STT_ENGINE                    => 'transcribe',
	LECTERN_AWS_ENDPOINT_TRANSCRIBE       => "http://127.0.0.1:$pport",
	LECTERN_TRANSCRIBE_POLL_MS            => 100,
	LECTERN_TRANSCRIBE_VOCABULARY_WAIT_MS => 10000,
	LECTERN_AWS_MAX_ATTEMPTS              => 2,
	LECTERN_AWS_BACKOFF_MS                => 50,
	# A job's retries (5 s, then 10 s) are found at once, not at the
	# worker's next look 5 s later.
	LECTERN_JOB_IDLE_MS                   => 200,
	LAB_RATE_LIMIT                        => 100000,
});
my %lab = map { /^([A-Z_0-9]+)=(.*)$/ ? ($1, $2) : () }
	split /\n/, (slurp_file($stack->dir . '/etc/stt.env') // '');
is($lab{LECTERN_STORE}, 's3', 'the stt service keeps its audio in S3');
my ($s3port) = (slurp_file($stack->dir . '/run/s3rver.port') // '') =~ /(\d+)/;
ok($s3port, 's3rver runs');
my $bucket = $lab{LECTERN_S3_BUCKET} // 'none';
my @keys = ('--access-key', $lab{AWS_ACCESS_KEY_ID}, '--token', $lab{AWS_SESSION_TOKEN} // '',
	'--region', $lab{AWS_REGION}, '--port', $pport, '--s3-upstream', "http://127.0.0.1:$s3port");
my ($peer) = start_peer("$dir/peer", 'transcribe-peer.py', @keys, '--secret', $lab{AWS_SECRET_ACCESS_KEY});

# The peer's counters and holdings (unsigned test hooks).
sub peer_get {
	my $r = $http->get("http://127.0.0.1:$pport/_peer/$_[0]");
	return $r->{success} ? $r->{content} : '(no answer)';
}
sub calls { return peer_get("attempts?name=$_[0]") + 0 }
# The keys in the bucket under prefix, read from s3rver itself.
sub objects {
	my ($prefix) = @_;
	my $r = $http->get("http://127.0.0.1:$s3port/$bucket?prefix=$prefix");
	return $r->{success} ? [ sort $r->{content} =~ m{<Key>([^<]+)</Key>}g ] : ['(no listing)'];
}

# The peer checks signatures: what is not signed with the lab's keys is refused.
for my $op (qw(StartTranscriptionJob GetTranscriptionJob)) {
	my $r = $http->post("http://127.0.0.1:$pport/", { headers => {
		'Content-Type' => 'application/x-amz-json-1.1', 'X-Amz-Target' => "Transcribe.$op" },
		content => '{"TranscriptionJobName": "x"}' });
	is($r->{status}, 403, "an unsigned $op is refused by the peer");
}

my ($alice, $alice_id) = $stack->user('alice@example.org');
my ($bob) = $stack->user('bob@example.org');
sub auth { return { Authorization => "Bearer $_[0]" } }

# transcribe(TOKEN, FILENAME, BYTES, {field => value}) -> (status, headers, json)
sub transcribe {
	my ($token, $filename, $data, $fields) = @_;
	my ($st, $j, $h) = $stack->upload($token, $filename, $data, undef,
		{ path => "$base/transcribe", part => 'audio', fields => $fields });
	return ($st, $h, $j);
}
# The finished transcription: the answer when 200, else its status_url polled.
sub finished {
	my ($token, $st, $t) = @_;
	return $t if $st == 200;
	return wait_until(sub {
		my (undef, undef, $p) = $stack->request(GET => $t->{status_url} // '/none', auth($token));
		return ($p->{status} // '') =~ /^(completed|failed)$/ ? $p : undef;
	}, 60) // {};
}
sub near { return abs(($_[0] // -99) - $_[1]) < 0.0005 }

# --- a transcription: the peer's transcript as the contract shapes it --------
my $starts = calls('StartTranscriptionJob');
my ($st, $h, $t) = transcribe($alice, 'lecture.wav', $wav, { wait => 20 });
ok($st == 200 || $st == 202, "POST /transcribe answers $st") or diag($json->encode($t // {}));
my $answer = finished($alice, $st, $t);
my $id = $answer->{task_id} // 'none';
is($answer->{status}, 'completed', 'completed') or diag($json->encode($answer));
like($id, $uuid_re, 'task_id');
is($answer->{id}, $id, 'id is task_id');
is($answer->{engine}, 'transcribe', 'engine: Amazon Transcribe');
is(calls('StartTranscriptionJob'), $starts + 1, 'one Transcribe job was started');
is($answer->{text}, 'Cells are the units of life. Lycos splits glucose.', "the transcript's text");
is($answer->{transcript}, $answer->{text}, 'transcript is text');
is($answer->{language}, 'en-US', 'language');
is($answer->{format}, 'wav', 'format');
ok(abs(($answer->{duration_seconds} // -1) - $seconds) < 0.05,
	"duration_seconds: the audio's as measured before Transcribe ($answer->{duration_seconds})");
ok(near($answer->{confidence}, 0.92), "confidence: the words' mean ($answer->{confidence})");
my @words = @{ $answer->{words} // [] };
is(scalar @words, 9, 'nine words, punctuation left out');
my $same = @words == @spoken;
for my $i (0 .. $#spoken) {
	my ($w, $s) = ($words[$i] // {}, $spoken[$i]);
	$same &&= $w->{word} eq $s->[0] && near($w->{start}, $s->[1]) && near($w->{end}, $s->[2])
		&& near($w->{confidence}, $s->[3]) && ($w->{speaker} // '') eq $s->[4];
}
ok($same, 'each word with its times, confidence and speaker') or diag($json->encode(\@words));
is_deeply([ map { [ $_->{speaker}, $_->{start} + 0, $_->{end} + 0 ] } @{ $answer->{speakers} // [] } ],
	[ [ 'spk_0', 0.04, 1.8 ], [ 'spk_1', 2.3, 3.6 ] ], "speakers: the two speakers' turns");
ok(exists $answer->{error} && !defined $answer->{error}, 'error is null');
like($answer->{created_at} // '', $time_re, 'created_at');
like($answer->{completed_at} // '', $time_re, 'completed_at');

# Nothing of the job stays in the bucket or with Transcribe: the audio alone.
is_deeply(objects("stt/$alice_id/"), ["stt/$alice_id/$id/audio"], 'the bucket holds the audio alone');
is(peer_get('jobs'), '', 'the Transcribe job was deleted');

# --- 202 and polling -----------------------------------------------------------
($st, $h, $t) = transcribe($alice, 'later.wav', $wav, { wait => 0 });
is($st, 202, 'wait=0 answers 202');
is($t->{status_url}, "$base/status/$t->{task_id}", '202: status_url');
is($h->{location}, $t->{status_url}, '202: Location');
my $later = finished($alice, $st, $t);
is($later->{status}, 'completed', 'the polled transcription completed');
is($later->{text}, $answer->{text}, 'with the same transcript');

# --- status, list, other users -------------------------------------------------
my ($s, undef, $status) = $stack->request(GET => "$base/status/$id", auth($alice));
is($s, 200, 'status answers 200');
is_deeply($status, $answer, 'status shows the transcription as the answer did');
($s, $h, my $list) = $stack->request(GET => "$base/transcriptions", auth($alice));
is($s, 200, 'list answers 200');
is($h->{'x-total-count'}, 2, 'X-Total-Count');
my ($item) = grep { ($_->{task_id} // '') eq $id } @{ $list // [] };
ok($item, 'the list shows it');
is($item->{text}, $answer->{text}, '... with its text') if $item;
is($item->{engine}, 'transcribe', '... and engine') if $item;
ok($item && !exists $item->{words}, '... without the words');
($s, undef, $list) = $stack->request(GET => "$base/transcriptions", auth($bob));
is_deeply($list, [], "bob's list is empty");
($s) = $stack->request(GET => "$base/status/$id", auth($bob));
is($s, 404, "another user's transcription answers 404");
($s) = $stack->request(DELETE => "$base/transcriptions/$id", auth($bob));
is($s, 404, 'another user cannot delete it (404)');

# --- a file that is not audio: refused before Transcribe -----------------------
$starts = calls('StartTranscriptionJob');
($st, $h, $t) = transcribe($alice, 'notes.wav', "These are my notes, not audio.\n" x 20);
is($st, 415, 'text renamed .wav answers 415');
is($t->{error}, 'unsupported_media_type', '415 error code');
is(calls('StartTranscriptionJob'), $starts, 'no Transcribe job was started');
is(scalar @{ objects("stt/$alice_id/") }, 2, 'and nothing was stored');

# --- the course's vocabulary ---------------------------------------------------
# Transcribe mishears "glycolysis" ("Lycos") unless the job's vocabulary has
# it; once alice's document reached the worker (document.processed), her
# jobs carry the course's terms.
my $document = join("\n\n", '# Energy in the cell',
	'Cells break sugar down to release the energy it holds.',
	'The first stage is called glycolysis.',
	'Glycolysis splits one molecule of glucose into two molecules of pyruvate.');
($s, my $doc) = $stack->upload($alice, 'energy.md', $document, 'text/markdown');
is($s, 201, 'alice uploads a document that uses the term') or diag($json->encode($doc // {}));
my $vocabularies = calls('CreateVocabulary');
my $tuned = wait_until(sub {
	my ($st, undef, $t) = transcribe($alice, 'course.wav', $wav, { wait => 20 });
	$t = finished($alice, $st, $t);
	return ($t->{engine} // '') eq 'transcribe+course' ? $t : undef;
}, 60);
ok($tuned, 'a transcription with the course vocabulary (engine transcribe+course)');
$tuned //= {};
is($tuned->{text}, 'Cells are the units of life. glycolysis splits glucose.',
	'the course term is heard as the vocabulary writes it');
is(($tuned->{words} // [])->[6]{word}, 'glycolysis', 'and it is a word with its times');
is(calls('CreateVocabulary'), $vocabularies + 1, 'one vocabulary was made for it');
ok(calls('GetVocabulary') >= 2, 'and waited for until READY');
is(peer_get('vocabularies'), '', 'the vocabulary was deleted with the job');
my $tuned_id = $tuned->{task_id} // 'none';
is_deeply(objects("stt/$alice_id/$tuned_id/"), ["stt/$alice_id/$tuned_id/audio"],
	'its table and transcript left the bucket');
($st, $h, $t) = transcribe($bob, 'bob.wav', $wav, { wait => 20 });
$t = finished($bob, $st, $t);
is($t->{engine}, 'transcribe', 'bob, who has no documents: Transcribe alone');
like($t->{text} // '', qr/Lycos/, '... mishears the term');

# --- delete ------------------------------------------------------------------------
($s, undef, $t) = $stack->request(DELETE => "$base/transcriptions/$id", auth($alice));
is($s, 200, 'delete answers 200');
is($t->{task_id}, $id, 'delete: task_id');
is_deeply(objects("stt/$alice_id/$id/"), [], 'the audio left the bucket');
($s) = $stack->request(GET => "$base/status/$id", auth($alice));
is($s, 404, 'a deleted transcription answers 404');
ok(!(grep { !m{/audio$} } @{ objects('stt/') }), 'no job left anything but audio in the bucket')
	or diag(join(' ', @{ objects('stt/') }));
is(peer_get('jobs'), '', 'nor a job with Transcribe');

# --- events ------------------------------------------------------------------------
my $tid = $tuned->{task_id} // 'none';
my ($rq) = $stack->wait_events('audio.transcription.requested', sub { ($_[0]{payload}{task_id} // '') eq $tid });
is($rq->{payload}{content_type}, 'audio/wav', 'audio.transcription.requested: content_type');
my ($done) = $stack->wait_events('audio.transcription.completed', sub { ($_[0]{payload}{task_id} // '') eq $tid });
is($done->{payload}{status}, 'completed', 'audio.transcription.completed: status');
is($done->{payload}{text}, $tuned->{text}, '... with the text');
ok(near($done->{payload}{confidence}, 0.92), '... and confidence');

# --- Transcribe refuses the keys -----------------------------------------------
# The same peer with another secret: every signature of the worker is wrong
# to it. The task is tried again (STT_JOB_ATTEMPTS), then fails with why.
stop_peer($peer);
start_peer("$dir/peer-wrong", 'transcribe-peer.py', @keys, '--secret', 'not-the-lab-secret');
($st, $h, $t) = transcribe($alice, 'refused.wav', $wav, { wait => 0 });
is($st, 202, 'a transcription while Transcribe refuses the keys is taken (202)');
my $refused = $t->{task_id} // 'none';
my $failed = wait_until(sub {
	my (undef, undef, $p) = $stack->request(GET => "$base/status/$refused", auth($alice));
	return ($p->{status} // '') eq 'failed' ? $p : undef;
}, 60);
ok($failed, 'after its attempts the transcription fails')
	or diag($json->encode(($stack->request(GET => "$base/status/$refused", auth($alice)))[2] // {}));
is($failed->{error}, 'Amazon Transcribe refused the credentials', '... with a clear error') if $failed;
is(calls('StartTranscriptionJob'), 0, 'no job was started');
is_deeply(objects("stt/$alice_id/$refused/"), ["stt/$alice_id/$refused/audio"],
	'the vocabulary table left the bucket all the same');
my ($fev) = $stack->wait_events('audio.transcription.completed', sub { ($_[0]{payload}{task_id} // '') eq $refused });
is($fev->{payload}{error}, 'Amazon Transcribe refused the credentials', 'audio.transcription.completed says why');

$stack->stop;
done_testing();
