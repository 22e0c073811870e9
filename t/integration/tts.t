# The text-to-speech service and its worker through nginx (docs/api.md,
# "Text to speech"): every format decodes (sox) at the voice's sample rate
# with a duration that grows with the text, every listed voice speaks, the
# cache answers a repeat without a new synthesis, SSML and its hostile
# cases, the library with Range and delete, other users' audio, a document
# read aloud from the events, and the audio.generation.* events (kcat).
use strict;
use warnings;

use File::Temp qw(tempdir);
use IO::Socket::INET;
use JSON::PP;
use Test::More;
use Time::HiRes qw(time);

use Lectern::Test qw(start_stack);

for my $tool (qw(kcat sox soxi)) {
	BAIL_OUT("$tool is not installed (tools/packages.txt)")
		if system("command -v $tool >/dev/null 2>&1") != 0;
}

my $stack = start_stack(env => { LAB_RATE_LIMIT => 100000 });
my $json = JSON::PP->new->canonical;
my $tmp = tempdir('lectern-tts-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $uuid_re = qr/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
my $base = '/api/v1/tts';

my ($alice, $alice_id) = $stack->user('alice@example.org');
my ($bob) = $stack->user('bob@example.org');
sub auth { return { Authorization => "Bearer $_[0]" } }

sub synth {
	my ($token, $body) = @_;
	return $stack->request(POST => "$base/synthesize", auth($token), $body);
}

# sox's view of audio bytes: (sample rate, seconds).
sub decode {
	my ($bytes, $ext) = @_;
	my $f = "$tmp/a-" . int(rand(1e9)) . ".$ext";
	open(my $fh, '>:raw', $f) or die $!;
	print $fh $bytes;
	close $fh;
	my $rate = `soxi -r '$f' 2>/dev/null`;
	# The decoded length, counted by decoding every sample (not the header).
	my $stat = `sox '$f' -n stat 2>&1`;
	my ($len) = $stat =~ /Length \(seconds\):\s+([\d.]+)/;
	chomp $rate;
	return ($rate, $len);
}

# --- voices -------------------------------------------------------------------
my ($st, $h, $j) = $stack->request(GET => "$base/voices", auth($alice));
is($st, 200, 'GET /voices');
is($j->{engine}, 'local', 'the engine is the embedded one');
my %voices = map { $_->{id} => $_ } @{ $j->{voices} };
for my $id (qw(Joanna Matthew Ivy Amy Emma Brian kal kal16 awb rms slt espeak-de espeak-fr-fr espeak-ja)) {
	ok($voices{$id}, "voice $id is listed");
}
is($voices{Joanna}{language}, 'en-US', 'Joanna is US English');
is($voices{Amy}{language}, 'en-GB', 'Amy is British English');
is($voices{Brian}{gender}, 'Male', 'Brian is male');
is($voices{Joanna}{engine}, 'flite', 'Joanna is flite');
ok(scalar(keys %voices) > 60, 'one voice per espeak-ng language too (' . scalar(keys %voices) . ')');
my @bad_fields = grep { !defined $_->{name} || !defined $_->{language_name} || $_->{gender} !~ /^(Male|Female)$/ } values %voices;
is(scalar @bad_fields, 0, 'every voice has name, language_name and gender');
($st) = $stack->request(GET => "$base/voices");
is($st, 401, 'voices need a token');

# --- each format, through nginx --------------------------------------------
my $para = 'Plate tectonics describes the large scale motion of the plates that make up '
	. 'the lithosphere of the Earth. The theory builds on continental drift.';
my %magic = (mp3 => qr/^(?:ID3|\xff[\xe0-\xff])/, wav => qr/^RIFF....WAVE/s, ogg => qr/^OggS/);
my %type = (mp3 => 'audio/mpeg', wav => 'audio/wav', ogg => 'audio/ogg');
my %first;
for my $fmt (qw(mp3 wav ogg)) {
	my ($s, $hd, undef, $raw) = synth($alice, { text => $para, voice_id => 'Joanna', format => $fmt });
	is($s, 200, "$fmt: 200 with the audio bytes");
	is($hd->{'content-type'}, $type{$fmt}, "$fmt: Content-Type");
	like($hd->{'x-task-id'} // '', $uuid_re, "$fmt: X-Task-Id");
	like($hd->{location} // '', qr{^/api/v1/tts/audio/[0-9a-f-]{36}$}, "$fmt: Location");
	is($hd->{'x-cache'}, 'miss', "$fmt: synthesized");
	like($raw // '', $magic{$fmt}, "$fmt: the bytes are $fmt");
	my ($rate, $len) = decode($raw, $fmt);
	is($rate, 16000, "$fmt: decodes at slt's 16 kHz");
	ok($len > 4 && $len < 30, "$fmt: lasts ${len}s");
	$first{$fmt} = { task => $hd->{'x-task-id'}, location => $hd->{location}, bytes => $raw, len => $len };
}

# Duration grows with the text (WAV, decoded).
my ($s1, undef, undef, $short) = synth($alice, { text => 'Short.', format => 'wav' });
my ($s2, undef, undef, $long) = synth($alice, { text => "$para $para", format => 'wav' });
my ((undef, $l1), (undef, $l2)) = (decode($short, 'wav'), decode($long, 'wav'));
ok($s1 == 200 && $s2 == 200, 'short and long syntheses');
ok($l1 < 2, "one word is short (${l1}s)");
ok($l2 > 1.7 * $first{wav}{len}, "twice the text is about twice as long (${l2}s vs $first{wav}{len}s)");
# speed: half speed is longer, double is shorter.
my (undef, undef, $slow) = synth($alice, { text => $para, format => 'wav', speed => 0.5, response => 'json' });
my (undef, undef, $fast) = synth($alice, { text => $para, format => 'wav', speed => 2.0, response => 'json' });
ok($slow->{duration_ms} > 1500 * $first{wav}{len}, "speed 0.5 is slower ($slow->{duration_ms} ms)");
ok($fast->{duration_ms} < 700 * $first{wav}{len}, "speed 2.0 is faster ($fast->{duration_ms} ms)");

# --- the cache ----------------------------------------------------------------
my ($n0) = scalar @{ ($stack->request(GET => "$base/audio?limit=100", auth($alice)))[2] };
my $t0 = time;
my ($s, $hd, undef, $raw) = synth($alice, { text => $para, voice_id => 'Joanna', format => 'mp3' });
my $hit_ms = (time - $t0) * 1000;
is($s, 200, 'the same request again');
is($hd->{'x-cache'}, 'hit', '... is served from the stored audio');
is($hd->{'x-task-id'}, $first{mp3}{task}, '... the same task');
is($hd->{location}, $first{mp3}{location}, '... the same audio');
ok($raw eq $first{mp3}{bytes}, '... the same bytes');
my ($n1) = scalar @{ ($stack->request(GET => "$base/audio?limit=100", auth($alice)))[2] };
is($n1, $n0, '... and no new synthesis was stored');
diag(sprintf('cache hit through nginx: %.1f ms', $hit_ms));
($s, $hd) = synth($alice, { text => $para, voice_id => 'Joanna', format => 'mp3', speed => 1.1 });
is($hd->{'x-cache'}, 'miss', 'another speed is another synthesis');
($s, $hd) = synth($bob, { text => $para, voice_id => 'Joanna', format => 'mp3' });
is($hd->{'x-cache'}, 'miss', "another user's identical text is theirs alone");

# --- streaming -------------------------------------------------------------------
# A long synthesis answers with its first audio while the rest is still being
# spoken: the client reads the headers and the first bytes of four minutes of
# audio (seconds of synthesis), and the synthesis is not in the library yet
# (its row is written after the last sentence); then it reads the rest, and
# the stored copy has the same audio.
{
	my ($host, $port) = $stack->http_url =~ m{^http://([^:/]+):(\d+)};
	my $long_text = join(' ', map { "Sentence number $_ of a long reading, spoken one after another." } 1 .. 60);
	my $body = $json->encode({ text => $long_text, voice_id => 'Joanna', format => 'wav' });
	my $sock = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port) or die "connect: $!";
	binmode $sock;
	print $sock "POST $base/synthesize HTTP/1.1\r\nHost: $host\r\nAuthorization: Bearer $alice\r\n"
		. "Content-Type: application/json\r\nContent-Length: " . length($body) . "\r\nConnection: close\r\n\r\n$body";
	my $in = '';
	while ($in !~ /\r\n\r\n/) {
		my $n = sysread($sock, $in, 4096, length $in);
		last unless $n;
	}
	my ($head, $rest) = split /\r\n\r\n/, $in, 2;
	my %sh = map { /^([^:]+):\s*(.*)$/ ? (lc $1 => $2) : () } split /\r\n/, $head;
	like($head, qr{^HTTP/1\.1 200}, 'stream: 200');
	is($sh{'content-type'}, 'audio/wav', 'stream: Content-Type');
	is($sh{'transfer-encoding'}, 'chunked', 'stream: chunked, as it is made');
	ok(!defined $sh{'content-length'}, 'stream: no Content-Length');
	is($sh{'x-cache'}, 'miss', 'stream: X-Cache miss');
	like($sh{'x-task-id'} // '', $uuid_re, 'stream: X-Task-Id');
	like($sh{location} // '', qr{^/api/v1/tts/audio/[0-9a-f-]{36}$}, 'stream: Location');
	while (length($rest) < 200) {
		my $n = sysread($sock, $rest, 4096, length $rest);
		last unless $n;
	}
	ok(length($rest) >= 200, 'stream: the first audio arrived');
	my ($ls, undef, $lj) = $stack->request(GET => "$base/audio?limit=100", auth($alice));
	ok($ls == 200 && !grep({ $_->{task_id} eq ($sh{'x-task-id'} // '') } @$lj),
		'stream: ... while the synthesis is still going (not in the library yet)');
	while (1) {
		my $n = sysread($sock, $rest, 65536, length $rest);
		last unless $n;
	}
	close $sock;
	# De-chunk.
	my ($audio, $ended) = ('', 0);
	while ($rest =~ /\G([0-9a-fA-F]+)\r\n/gc) {
		my $size = hex $1;
		if ($size == 0) {
			$ended = 1;
			last;
		}
		$audio .= substr($rest, pos($rest), $size);
		pos($rest) += $size + 2;
	}
	ok($ended, 'stream: ends with its last chunk');
	like($audio, qr/^RIFF\xff\xff\xff\xffWAVE/, 'stream: a WAV header with its sizes unknown');
	my ($rate, $len) = decode($audio, 'wav');
	is($rate, 16000, 'stream: decodes at 16 kHz');
	ok($len > 60, "stream: all of it (${len}s)");
	my ($gs, undef, undef, $stored) = $stack->request(GET => $sh{location}, auth($alice));
	is($gs, 200, 'stream: stored at its Location');
	ok(length($stored) == length($audio) && substr($stored, 44) eq substr($audio, 44),
		'stream: the stored audio is the streamed audio');
	is(unpack('V', substr($stored, 40, 4)), length($stored) - 44, 'stream: the stored WAV has its real size');
}

# --- the JSON form --------------------------------------------------------------
($s, $hd, $j) = synth($alice, { text => 'The JSON form.', voice => 'Matthew', format => 'ogg', response => 'json' });
is($s, 200, 'response json');
like($j->{task_id} // '', $uuid_re, 'json: task_id');
like($j->{id} // '', $uuid_re, 'json: id');
is($j->{status}, 'completed', 'json: status');
is($j->{audio_url}, "/api/v1/tts/audio/$j->{id}", 'json: audio_url');
is($j->{voice_id}, 'Matthew', 'json: voice_id (from voice)');
is($j->{format}, 'ogg', 'json: format');
is($j->{characters}, 14, 'json: characters');
ok($j->{duration_ms} > 300, 'json: duration_ms');
like($j->{created_at} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'json: created_at');
is($hd->{'x-task-id'}, $j->{task_id}, 'json: X-Task-Id too');
my $json_id = $j->{id};

# --- bad requests ------------------------------------------------------------
sub bad {
	my ($body, $want, $name, $field) = @_;
	my ($bs, undef, $bj) = synth($alice, $body);
	is($bs, $want, $name);
	is($bj->{error}, 'invalid_request', "$name: invalid_request") if $want == 400;
	if ($field) {
		ok((grep { $_->{field} eq $field } @{ $bj->{details} // [] }), "$name: names $field");
	}
	return $bj;
}
bad({ text => '' }, 400, '0 characters', 'text');
bad({ text => 'x' x 5001 }, 400, '5001 characters', 'text');
bad({}, 400, 'no text', 'text');
bad({ text => '   ' }, 400, 'only spaces', 'text');
my $bj = bad({ text => 'Hi.', voice_id => 'Nobody' }, 400, 'unknown voice', 'voice_id');
my ($detail) = map { $_->{problem} } grep { $_->{field} eq 'voice_id' } @{ $bj->{details} };
like($detail // '', qr/Joanna.*Matthew.*espeak-de/, 'the unknown voice lists the valid ids');
bad({ text => 'Hi.', format => 'flac' }, 400, 'unknown format', 'format');
bad({ text => 'Hi.', speed => 3 }, 400, 'speed 3', 'speed');
bad({ text => 'Hi.', speed => 0.4 }, 400, 'speed 0.4', 'speed');
bad({ text => 'Hi.', speed => 'fast' }, 400, 'speed as text', 'speed');
bad({ text => 42 }, 400, 'text as a number', 'text');
bad({ text => "nul \x{0} byte" }, 400, 'a NUL character', 'text');
($st) = $stack->request(POST => "$base/synthesize", { %{ auth($alice) }, 'Content-Type' => 'application/json' }, '{"text": ');
is($st, 400, 'malformed JSON');
($st) = $stack->request(POST => "$base/synthesize", {}, { text => 'Hi.' });
is($st, 401, 'no token');

# --- SSML --------------------------------------------------------------------------
my $plain = (synth($alice, { text => 'First part. Second part.', format => 'wav', response => 'json' }))[2];
($s, undef, $j) = synth($alice, { format => 'wav', response => 'json',
	text => '<speak>First part.<break time="3s"/>Second part.</speak>' });
is($s, 200, 'SSML with a break');
ok($j->{duration_ms} >= $plain->{duration_ms} + 2500, "the break adds its 3 s ($j->{duration_ms} vs $plain->{duration_ms} ms)");
($s, undef, $j) = synth($alice, { format => 'wav', response => 'json',
	text => '<speak xmlns="http://www.w3.org/2001/10/synthesis" version="1.0"><p><s>One.</s><s>Two.</s></p>'
		. '<p><prosody rate="slow">Slowly &amp; surely</prosody> <say-as interpret-as="characters">ABC</say-as>'
		. '<break strength="strong"/></p></speak>' });
is($s, 200, 'SSML with p, s, prosody, say-as, break strength and an entity of XML');
ok($j->{duration_ms} > 1000, 'and it speaks');
my $lol = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
	. '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">'
	. '<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;"><!ENTITY lol9 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">]>'
	. '<speak>&lol9;</speak>';
$t0 = time;
bad({ text => $lol }, 400, 'a billion laughs', 'text');
ok(time - $t0 < 2, 'refused at once');
bad({ text => '<?xml version="1.0"?><!DOCTYPE speak [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><speak>&xxe;</speak>' },
	400, 'an external entity', 'text');
bad({ text => '<speak><!DOCTYPE x></speak>' }, 400, 'a DOCTYPE inside', 'text');
bad({ text => '<speak>&undefined;</speak>' }, 400, 'an undefined entity', 'text');
bad({ text => '<speak><audio src="http://example.com/a.mp3"/>Hi</speak>' }, 400, 'an unknown tag', 'text');
bad({ text => '<speak><break time="forever"/>Hi</speak>' }, 400, 'a bad break', 'text');
bad({ text => '<speak><prosody rate="900%">Hi</prosody></speak>' }, 400, 'a bad rate', 'text');
bad({ text => '<speak><p onclick="x">Hi</p></speak>' }, 400, 'an unknown attribute', 'text');
bad({ text => '<speak>Hi' }, 400, 'malformed XML', 'text');
bad({ text => '<speak><x:p xmlns:x="urn:other">Hi</x:p></speak>' }, 400, 'another namespace', 'text');
bad({ text => '<speak></speak>' }, 400, 'SSML with nothing to say', 'text');
bad({ text => '<speak>' . ('<s>' x 40) . 'deep' . ('</s>' x 40) . '</speak>' }, 400, 'SSML nested too deeply', 'text');
bad({ text => '<speak><break time="36000s"/>Hi</speak>', format => 'wav' }, 200, 'a huge break is capped');

# --- the library ------------------------------------------------------------------
($st, undef, $j) = $stack->request(GET => "$base/audio", auth($alice));
is($st, 200, 'GET /audio');
ok(@$j >= 5, 'lists the syntheses');
my ($mp3) = grep { $_->{task_id} eq $first{mp3}{task} } @$j;
ok($mp3, 'the first mp3 is in the library');
is($mp3->{format}, 'mp3', 'with its format');
like($mp3->{text}, qr/^Plate tectonics/, 'and the start of its text');
($st, $h, undef, $raw) = $stack->request(GET => $first{mp3}{location}, auth($alice));
is($st, 200, 'GET /audio/{id}');
is($h->{'content-type'}, 'audio/mpeg', '... audio/mpeg');
ok($raw eq $first{mp3}{bytes}, '... the same bytes');
($st, $h, undef, $raw) = $stack->request(GET => $first{mp3}{location}, { %{ auth($alice) }, Range => 'bytes=0-99' });
is($st, 206, 'Range: 206');
is(length $raw, 100, 'Range: 100 bytes');
like($h->{'content-range'} // '', qr{^bytes 0-99/\d+$}, 'Range: Content-Range');
($st) = $stack->request(GET => $first{mp3}{location}, auth($bob));
is($st, 404, "another user's audio is 404");
($st) = $stack->request(DELETE => $first{mp3}{location}, auth($bob));
is($st, 404, "another user cannot delete it");
($st) = $stack->request(GET => "$base/audio/not-a-uuid", auth($alice));
is($st, 404, 'a malformed id is 404');
($st, undef, $j) = $stack->request(GET => "$base/audio", auth($bob));
ok(!grep({ $_->{task_id} eq $first{mp3}{task} } @$j), "bob's library holds none of alice's");
($st, undef, $j) = $stack->request(DELETE => "$base/audio/$json_id", auth($alice));
is($st, 200, 'DELETE /audio/{id}');
like($j->{message} // '', qr/\S/, 'delete: message');
like($j->{task_id} // '', $uuid_re, 'delete: task_id');
my $deleted_task = $j->{task_id};
($st) = $stack->request(GET => "$base/audio/$json_id", auth($alice));
is($st, 404, 'deleted audio is gone');
($st) = $stack->request(DELETE => "$base/audio/$json_id", auth($alice));
is($st, 404, 'deleting twice is 404');
my @left = glob($stack->dir . "/store/tts/*/$json_id*");
is(scalar @left, 0, 'the stored audio went too');

# --- a document read aloud ----------------------------------------------------------
my $md = "# Volcanoes\n\nA volcano is an opening in the crust of a planet. Lava, ash and gases escape through it.\n\n"
	. "## Kinds\n\nShield volcanoes have gentle slopes. **Stratovolcanoes** are steep and tall; see [the list](http://x.example/list).\n\n"
	. "```\nrm -rf /\n```\n";
($st, $j) = $stack->upload($alice, 'volcano.md', $md, 'text/markdown');
ok($st == 200 || $st == 201 || $st == 202, "a document uploaded ($st)");
my $doc = $j->{document_id};
my %part;
for my $p (qw(content notes summary)) {
	for (1 .. 150) {
		($st, undef, $j) = synth($alice, { document_id => $doc, part => $p, format => 'wav', response => 'json' });
		last if $st == 200;
		select(undef, undef, undef, 0.2);
	}
	is($st, 200, "the document's $p is read aloud");
	$part{$p} = $j;
}
ok($part{content}{duration_ms} > 5000, "content: $part{content}{duration_ms} ms");
is($part{content}{document_id}, $doc, 'the audio names its document');
is($part{content}{part}, 'content', 'and the part');
unlike($part{content}{text}, qr/[#*\[\]`]|http|rm -rf/, 'no markup, link or code is spoken: ' . $part{content}{text});
ok($part{notes}{duration_ms} > 1000, "notes: $part{notes}{duration_ms} ms");
($st) = (synth($bob, { document_id => $doc, part => 'content' }))[0];
is($st, 404, "another user's document is 404");
($st) = (synth($alice, { document_id => '00000000-0000-4000-8000-000000000000' }))[0];
is($st, 404, 'a missing document is 404');
bad({ document_id => $doc, part => 'everything' }, 400, 'an unknown part', 'part');
($st) = $stack->request(DELETE => "/api/v1/documents/$doc", auth($alice));
is($st, 200, 'the document deleted');
for (1 .. 100) {
	($st) = synth($alice, { document_id => $doc, part => 'notes', format => 'ogg' });
	last if $st == 404;
	select(undef, undef, undef, 0.2);
}
is($st, 404, 'a deleted document is no longer read (document.deleted)');

# --- every listed voice speaks ----------------------------------------------------
my @failed;
for my $id (sort keys %voices) {
	my ($vs, undef, $vj) = synth($alice, { text => 'One, two, three.', voice_id => $id, format => 'wav', response => 'json' });
	push @failed, "$id ($vs)" unless $vs == 200 && ($vj->{duration_ms} // 0) > 200;
}
is("@failed", '', 'every listed voice synthesizes (' . scalar(keys %voices) . ' voices)');
(undef, undef, $j) = synth($alice, { text => 'Eight kilohertz.', voice_id => 'kal', format => 'wav', response => 'json' });
is($j->{sample_rate}, 8000, 'kal speaks at 8 kHz');
(undef, undef, $j) = synth($alice, { text => 'Espeak.', voice_id => 'Amy', format => 'wav', response => 'json' });
is($j->{sample_rate}, 22050, 'espeak-ng speaks at 22.05 kHz');

# --- events ------------------------------------------------------------------------
sub events { return $stack->wait_events(@_) }
my ($rq) = events('audio.generation.requested', sub { $_[0]{payload}{task_id} eq $first{wav}{task} });
ok($rq, 'kcat reads audio.generation.requested');
is($rq->{producer}, 'tts', 'requested: producer');
is($rq->{user_id}, $alice_id, 'requested: user_id');
is($rq->{payload}{format}, 'wav', 'requested: format');
is($rq->{payload}{voice_id}, 'Joanna', 'requested: voice_id');
is($rq->{payload}{text_length}, length $para, 'requested: text_length');
my ($cp) = events('audio.generation.completed', sub { $_[0]{payload}{task_id} eq $first{wav}{task} });
ok($cp, 'kcat reads audio.generation.completed');
is($cp->{payload}{status}, 'completed', 'completed: status');
is($cp->{payload}{audio_url}, $first{wav}{location}, 'completed: audio_url');
ok($cp->{payload}{duration_ms} > 4000, 'completed: duration_ms');
my ($dl) = events('audio.generation.deleted', sub { $_[0]{payload}{task_id} eq $deleted_task });
ok($dl, 'kcat reads audio.generation.deleted');
is($dl->{payload}{user_id}, $alice_id, 'deleted: user_id');
my @reqs = events('audio.generation.requested', sub { $_[0]{payload}{task_id} eq $first{mp3}{task} });
is(scalar @reqs, 1, 'the cache hit requested nothing');

done_testing();
