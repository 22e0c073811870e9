# The tts service with LECTERN_TTS_ENGINE=polly against t/polly-peer.py,
# which recomputes every SigV4 signature with botocore: the voices come from
# DescribeVoices, syntheses from SynthesizeSpeech (PCM, encoded here into
# each format), and a stack that signs with the wrong secret is refused.
use strict;
use warnings;

use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;

use Lectern::Test qw(start_stack python_has start_peer slurp_file);

BAIL_OUT('python3-botocore is not installed (tools/packages.txt)') unless python_has('botocore');
BAIL_OUT('sox is not installed (tools/packages.txt)') if system('command -v soxi >/dev/null 2>&1') != 0;

my $dir = tempdir('lectern-tts-polly-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my ($key, $secret, $token) = ('AKIDLECTERNTTS', 'tts-polly-secret/+z', 'tts-polly-token');
my $base = '/api/v1/tts';

my (undef, $port) = start_peer("$dir/peer", 'polly-peer.py', '--access-key', $key, '--secret', $secret,
	'--token', $token);

sub polly_env {
	my ($secret_used) = @_;
	return (
		LECTERN_TTS_ENGINE         => 'polly',
		AWS_ACCESS_KEY_ID          => $key,
		AWS_SECRET_ACCESS_KEY      => $secret_used,
		AWS_SESSION_TOKEN          => $token,
		AWS_REGION                 => 'us-east-1',
		LECTERN_AWS_ENDPOINT_POLLY => "http://127.0.0.1:$port",
		LECTERN_AWS_MAX_ATTEMPTS   => 2,
		LECTERN_AWS_BACKOFF_MS     => 50,
		LAB_RATE_LIMIT             => 100000,
	);
}

# --- signed correctly ------------------------------------------------------------
{
	my $stack = start_stack(env => { polly_env($secret) });
	my ($st, $reg) = $stack->register('polly@example.org', 'correct horse battery', 'Polly');
	is($st, 201, 'registered');
	my $auth = { Authorization => "Bearer $reg->{token}" };
	my ($s, $h, $j) = $stack->request(GET => "$base/voices", $auth);
	is($s, 200, 'GET /voices');
	is($j->{engine}, 'polly', 'the engine is Polly');
	is_deeply([ sort map { $_->{id} } @{ $j->{voices} } ], [qw(Amy Brian Hans Joanna Matthew)],
		"Polly's voices, from DescribeVoices");
	my ($hans) = grep { $_->{id} eq 'Hans' } @{ $j->{voices} };
	is($hans->{language}, 'de-DE', 'with their language');
	is($hans->{engine}, 'polly', 'and engine');
	my %len;
	for my $fmt (qw(mp3 wav ogg)) {
		my $raw;
		($s, $h, undef, $raw) = $stack->request(POST => "$base/synthesize", $auth,
			{ text => 'Hello from Polly. Twice as long as this.', voice_id => 'Joanna', format => $fmt });
		is($s, 200, "$fmt through Polly");
		like($h->{'x-task-id'} // '', qr/^[0-9a-f-]{36}$/, "$fmt: X-Task-Id");
		open(my $fh, '>:raw', "$dir/a.$fmt") or die $!;
		print $fh $raw;
		close $fh;
		my $rate = `soxi -r '$dir/a.$fmt' 2>/dev/null`;
		chomp $rate;
		is($rate, 16000, "$fmt: decodes at Polly's 16 kHz");
		my ($secs) = `sox '$dir/a.$fmt' -n stat 2>&1` =~ /Length \(seconds\):\s+([\d.]+)/;
		ok(defined $secs && abs($secs - 40 * 0.06) < 0.2, "$fmt: 60 ms per character (${\ ($secs // 'none')} s)");
	}
	(undef, undef, $j) = $stack->request(POST => "$base/synthesize", $auth,
		{ text => '<speak>Hi.<break time="2s"/>Bye.</speak>', voice_id => 'Brian', format => 'wav', response => 'json' });
	ok($j->{duration_ms} >= 2000 + 6 * 60 - 50, "SSML breaks reach Polly ($j->{duration_ms} ms)");
	($s, undef, $j) = $stack->request(POST => "$base/synthesize", $auth, { text => 'Hi.', voice_id => 'slt' });
	is($s, 400, 'a local voice is unknown with Polly');
	($s, $h) = $stack->request(POST => "$base/synthesize", $auth,
		{ text => 'Hello from Polly. Twice as long as this.', voice_id => 'Joanna', format => 'mp3' });
	is($h->{'x-cache'}, 'hit', 'the cache works with Polly too');
}

# --- signed with the wrong secret -----------------------------------------------
{
	my $stack = start_stack(env => { polly_env('not-the-secret') });
	my ($st, $reg) = $stack->register('wrong@example.org', 'correct horse battery', 'Wrong');
	my $auth = { Authorization => "Bearer $reg->{token}" };
	my ($s, undef, $j) = $stack->request(GET => "$base/health");
	ok($s == 200 || $s == 503, "health answers ($s)");
	($s) = $stack->request(GET => "$base/voices", $auth);
	is($s, 503, 'no voices while Polly refuses the signature');
	($s, undef, $j) = $stack->request(POST => "$base/synthesize", $auth,
		{ text => 'Refused.', voice_id => 'Joanna', format => 'mp3' });
	ok($s >= 500, "a refused signature fails the synthesis ($s)");
	unlike(JSON::PP->new->encode($j // {}), qr/\Q$secret\E|not-the-secret/, 'no secret in the answer');
	my $log = join '', map { slurp_file($_) // '' } glob($stack->dir . '/log/tts*.log');
	like($log, qr/InvalidSignatureException|SignatureDoesNotMatch|forbidden|refused/i, 'the refusal is logged');
	unlike($log, qr/not-the-secret/, 'the secret is never logged');
}

done_testing();
