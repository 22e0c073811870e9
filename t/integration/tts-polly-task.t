# A long text with Polly and the S3 store goes to a synthesis task: the
# service starts it (StartSpeechSynthesisTask with the store's bucket and a
# prefix of its own), polls GetSpeechSynthesisTask, reads the PCM Polly
# wrote into the bucket, encodes it like any other audio, stores that and
# deletes Polly's object. t/polly-peer.py checks every signature and writes
# the object into the lab's s3rver; a task that fails fails the synthesis
# with Polly's reason, in the answer and in audio.generation.completed.
use strict;
use warnings;

use File::Temp qw(tempdir);
use HTTP::Tiny;
use JSON::PP;
use Test::More;

use Lectern::Test qw(start_stack src_dir skip_unless wait_until start_peer slurp_file python_has);

BAIL_OUT('python3-botocore is not installed (tools/packages.txt)') unless python_has('botocore');
BAIL_OUT('sox is not installed (tools/packages.txt)') if system('command -v soxi >/dev/null 2>&1') != 0;
BAIL_OUT('kcat is not installed (tools/packages.txt)') if system('command -v kcat >/dev/null 2>&1') != 0;

my $dir = tempdir('lectern-tts-task-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $base = '/api/v1/tts';
my $json = JSON::PP->new;
my $http = HTTP::Tiny->new(timeout => 30);

SKIP: {
	my $s3rver = $ENV{LECTERN_S3RVER} // src_dir() . '/t/node_modules/.bin/s3rver';
	skip_unless(-x $s3rver, 'the S3 lab needs s3rver (npm ci in t/)', 1);
	# The lab gives the service its AWS keys: the peer starts after the
	# stack, with those keys, on a port chosen before.
	my ($pport) = Lectern::Test::free_ports(1);
	my $stack = start_stack(s3 => 1, env => {
		LECTERN_TTS_ENGINE         => 'polly',
		LECTERN_AWS_ENDPOINT_POLLY => "http://127.0.0.1:$pport",
		LECTERN_TTS_POLLY_POLL_MS  => 100,
		LECTERN_AWS_MAX_ATTEMPTS   => 2,
		LECTERN_AWS_BACKOFF_MS     => 50,
		LAB_RATE_LIMIT             => 100000,
	});
	my %lab = map { /^([A-Z_0-9]+)=(.*)$/ ? ($1, $2) : () }
		split /\n/, (slurp_file($stack->dir . '/etc/tts.env') // '');
	is($lab{LECTERN_STORE}, 's3', 'the tts service keeps its audio in S3');
	my ($s3port) = (slurp_file($stack->dir . '/run/s3rver.port') // '') =~ /(\d+)/;
	ok($s3port, 's3rver runs');
	my $bucket = $lab{LECTERN_S3_BUCKET};

	start_peer("$dir/peer", 'polly-peer.py', '--port', $pport,
		'--access-key', $lab{AWS_ACCESS_KEY_ID}, '--secret', $lab{AWS_SECRET_ACCESS_KEY},
		'--token', $lab{AWS_SESSION_TOKEN} // '', '--region', $lab{AWS_REGION},
		'--s3-upstream', "http://127.0.0.1:$s3port");

	my ($st, $reg) = $stack->register('task@example.org', 'correct horse battery', 'Task');
	is($st, 201, 'registered');
	my $auth = { Authorization => "Bearer $reg->{token}" };
	# Polly was not there when the service started: the voices come now.
	my $voices = wait_until(sub {
		my ($s, undef, $j) = $stack->request(GET => "$base/voices", $auth);
		return $s == 200 ? $j : undef;
	}, 60);
	ok($voices && grep({ $_->{id} eq 'Joanna' } @{ $voices->{voices} }), "Polly's voices");

	sub calls {
		my ($name) = @_;
		my $r = $http->get("http://127.0.0.1:$pport/_peer/attempts?name=$name");
		return $r->{success} ? $r->{content} + 0 : -1;
	}
	# What is left under the service's prefix for Polly's output.
	sub leftovers {
		my $r = $http->get("http://127.0.0.1:$s3port/$bucket?prefix=tts/polly-tasks/");
		return $r->{success} ? [ $r->{content} =~ m{<Key>([^<]+)</Key>}g ] : ['(no listing)'];
	}

	# The peer checks the signature of the task calls as of every other.
	for my $call (['POST', '/v1/synthesisTasks'], ['GET', '/v1/synthesisTasks/x']) {
		my $r = $http->request($call->[0], "http://127.0.0.1:$pport$call->[1]",
			{ headers => { 'Content-Type' => 'application/json' }, content => '{}' });
		is($r->{status}, 403, "an unsigned $call->[0] $call->[1] is refused by the peer");
	}

	my $sentence = 'Plate tectonics explains how the outer shell of the planet moves. ';
	my $long = $sentence x 45;    # 2970 characters: more than one SynthesizeSpeech

	# --- a long text: one task, its PCM encoded into each format --------------
	my %task;
	for my $fmt (qw(wav mp3)) {
		my $before = calls('StartSpeechSynthesisTask');
		my ($s, $h, undef, $raw) = $stack->request(POST => "$base/synthesize", $auth,
			{ text => "$fmt. $long", voice_id => 'Joanna', format => $fmt });
		is($s, 200, "$fmt: a long text through a synthesis task");
		is(calls('StartSpeechSynthesisTask'), $before + 1, "$fmt: one task was started");
		like($h->{'x-task-id'} // '', qr/^[0-9a-f-]{36}$/, "$fmt: X-Task-Id");
		like($h->{location} // '', qr{^/api/v1/tts/audio/[0-9a-f-]{36}$}, "$fmt: Location");
		open(my $fh, '>:raw', "$dir/long.$fmt") or die $!;
		print $fh $raw // '';
		close $fh;
		my $rate = `soxi -r '$dir/long.$fmt' 2>/dev/null`;
		chomp $rate;
		is($rate, 16000, "$fmt: decodes at Polly's 16 kHz");
		my ($secs) = `sox '$dir/long.$fmt' -n stat 2>&1` =~ /Length \(seconds\):\s+([\d.]+)/;
		my $want = (length("$fmt. $long") - 1) * 0.06;    # the last space is not spoken
		ok(defined $secs && abs($secs - $want) < 0.5,
			"$fmt: the whole text, 60 ms per character (${\ ($secs // 'none')} s of $want)");
		$task{$fmt} = $h->{'x-task-id'};
	}
	is(calls('SynthesizeSpeech'), 0, 'no long text went to SynthesizeSpeech');
	is_deeply(leftovers(), [], "Polly's objects were deleted once encoded");

	my ($s, undef, $list) = $stack->request(GET => "$base/audio", $auth);
	my ($wav) = grep { $_->{task_id} eq ($task{wav} // '') } @{ $list // [] };
	ok($wav, 'the audio is in the library');
	ok(($wav->{duration_ms} // 0) > 170000, "with its duration ($wav->{duration_ms} ms)") if $wav;

	# --- the cache and short texts -------------------------------------------
	my $starts = calls('StartSpeechSynthesisTask');
	my $h;
	($s, $h) = $stack->request(POST => "$base/synthesize", $auth,
		{ text => "wav. $long", voice_id => 'Joanna', format => 'wav' });
	is($h->{'x-cache'}, 'hit', 'the same long text again is the stored audio');
	($s) = $stack->request(POST => "$base/synthesize", $auth,
		{ text => 'A short text.', voice_id => 'Joanna', format => 'mp3' });
	is($s, 200, 'a short text');
	is(calls('StartSpeechSynthesisTask'), $starts, '... starts no task');
	is(calls('SynthesizeSpeech'), 1, '... but SynthesizeSpeech');

	# --- a task that fails ---------------------------------------------------
	my $j;
	($s, undef, $j) = $stack->request(POST => "$base/synthesize", $auth,
		{ text => "peer-task-fail. $long", voice_id => 'Matthew', format => 'mp3' });
	is($s, 422, 'a failed task fails the synthesis (422)');
	like($j->{message} // '', qr/^Amazon Polly's synthesis task failed: Error occurred while trying to upload file to S3/,
		"with Polly's reason") or diag($json->encode($j // {}));
	is(calls('StartSpeechSynthesisTask'), $starts + 1, 'the task was started');
	($s, undef, $list) = $stack->request(GET => "$base/audio", $auth);
	is(scalar(grep { ($_->{voice_id} // '') eq 'Matthew' } @{ $list // [] }), 0,
		'a failed task leaves no audio');

	# --- hostile answers: the service reads only what it asked Polly to write
	for my $case (['peer-task-elsewhere', "an OutputUri naming another user's object"],
		['peer-task-badid', 'a TaskId that is a path']) {
		($s, undef, $j) = $stack->request(POST => "$base/synthesize", $auth,
			{ text => "$case->[0]. $long", voice_id => 'Amy', format => 'wav' });
		is($s, 503, "$case->[1] is refused");
		unlike($json->encode($j // {}), qr/tts\/|v1\/voices/, '... without naming it');
	}
	($s, undef, $list) = $stack->request(GET => "$base/audio", $auth);
	is(scalar(grep { ($_->{voice_id} // '') eq 'Amy' } @{ $list // [] }), 0, '... and leaves no audio');

	my $bs = $stack->slurp($stack->dir . '/run/kafka.bootstrap') // '';
	chomp $bs;
	my $failed = wait_until(sub {
		for my $line (split /\n/, `kcat -b $bs -C -t audio.generation.completed -o beginning -e -q -J 2>/dev/null`) {
			my $m = eval { $json->decode($line) } or next;
			my $ev = eval { $json->decode($m->{payload}) } or next;
			return $ev if ($ev->{payload}{status} // '') eq 'failed' && ($ev->{payload}{voice_id} // '') eq 'Matthew';
		}
		return undef;
	}, 60);
	ok($failed, 'audio.generation.completed says the task failed');
	like($failed->{payload}{error} // '', qr/^Amazon Polly's synthesis task failed: /, '... with the reason') if $failed;
	is($failed->{payload}{audio_url}, undef, '... and no audio') if $failed;
	$stack->stop;
}

done_testing();
