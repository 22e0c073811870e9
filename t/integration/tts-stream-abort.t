# A streamed synthesis that fails after its first audio went out (here the
# audio passes LECTERN_TTS_MAX_SECONDS) must not look complete: the client
# gets 200 and part of the audio, then the connection ends without the
# chunked body's end (curl: exit 18), and nothing is kept in the library
# (docs/api.md, "Streaming").
use strict;
use warnings;

use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;

use Lectern::Test qw(start_stack);

my $stack = start_stack(env => { LAB_RATE_LIMIT => 100000, LECTERN_TTS_MAX_SECONDS => 5 });
my $tmp = tempdir('lectern-tts-abort-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my ($st, $reg) = $stack->register('cut@example.org', 'correct horse battery', 'Cut Short');
is($st, 201, 'registered');
my $auth = "Authorization: Bearer $reg->{token}";

# Twenty sentences: about 40 s of audio, far past the 5 s allowed.
my $text = join(' ', map { "Sentence number $_ of a long reading." } 1 .. 20);
open(my $fh, '>', "$tmp/body.json") or die $!;
print $fh encode_json({ text => $text, format => 'mp3' });
close $fh;
system('curl', '-s', '-D', "$tmp/head", '-o', "$tmp/audio", '-H', $auth,
	'-H', 'Content-Type: application/json', '--data-binary', "\@$tmp/body.json",
	$stack->http_url . '/api/v1/tts/synthesize');
my $rc = $? >> 8;
my $head = $stack->slurp("$tmp/head") // '';
like($head, qr{^HTTP/1\.1 200}, 'the response began as a success');
ok(-s "$tmp/audio" > 1000, 'with the first audio (' . (-s "$tmp/audio") . ' bytes)');
is($rc, 18, 'then the transfer ends short: curl reports a partial body (18)');

my (undef, undef, $list) = $stack->request(GET => '/api/v1/tts/audio', { Authorization => "Bearer $reg->{token}" });
is(scalar @{ $list // [] }, 0, 'nothing is kept in the library');

# The same text as JSON is an ordinary 413 (no audio went out first).
my ($s2) = $stack->request(POST => '/api/v1/tts/synthesize', { Authorization => "Bearer $reg->{token}" },
	{ text => $text, format => 'mp3', response => 'json' });
is($s2, 413, 'the JSON form answers 413');

# A short text still streams whole.
system('curl', '-s', '-o', "$tmp/short", '-H', $auth, '-H', 'Content-Type: application/json',
	'--data-binary', encode_json({ text => 'Short.', format => 'mp3' }), $stack->http_url . '/api/v1/tts/synthesize');
is($? >> 8, 0, 'a synthesis within the limit ends normally');

done_testing();
