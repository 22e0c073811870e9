# The chat service with a model configured, through nginx: the model
# (t/llm-peer.py, a chat-completions test server) gets the question and the
# numbered passages of the asker's own documents, its answer is given with
# sources when its citations are real, the reply streams the same way, and
# on a false citation, an upstream error, malformed output or a timeout the
# extractive answer stands. A question the documents do not cover never
# reaches the model, and another user's passages are never in its prompt.
use strict;
use warnings;

use File::Temp ();
use JSON::PP;
use Test::More;

use Lectern::Test qw(start_stack wait_until start_llm_peer);

my $key = 'test-llm-key-chat';
my $dir = File::Temp::tempdir('lectern-chat-llm-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my ($peer, $url) = start_llm_peer($dir, $key);
END { kill 'TERM', $peer if $peer }
(my $admin = $url) =~ s{/v1$}{};

my $stack = start_stack(env => { LAB_RATE_LIMIT => 100000, LECTERN_LLM_BASE_URL => $url,
	LECTERN_LLM_API_KEY => $key, LECTERN_LLM_MODEL => 'cite', LECTERN_LLM_TIMEOUT_MS => 2000,
	LECTERN_LLM_MAX_ATTEMPTS => 1 });
my $base = '/api/v1/chat';
sub auth { return { Authorization => "Bearer $_[0]" } }
sub peer { return scalar `curl -s --max-time 5 '$admin/_peer/$_[0]'` }

my (undef, $a) = $stack->register('ada@example.org', 'correct horse battery', 'Ada');
my (undef, $b) = $stack->register('ben@example.org', 'correct horse battery', 'Ben');
my ($alice, $bob) = ($a->{token}, $b->{token});

my $geology = <<'EOT';
# Geology

## Plate tectonics

Plate tectonics is the theory that the outer shell of the Earth is divided into large plates
that glide over the mantle. Mid-ocean ridges form where two plates move apart.

## Rocks

Igneous rock forms when magma cools and solidifies. Sedimentary rock forms from layers of
sediment pressed together over millions of years.
EOT
my $diary = <<'EOT';
# Private diary

## March

The blue heron nested by the quarry pond and laid four speckled eggs in the reeds.
EOT
my ($st, $doc) = $stack->upload($alice, 'geology.md', $geology);
is($st, 201, 'geology.md uploaded');
is($doc->{status}, 'processed', 'geology.md processed');
($st, my $bdoc) = $stack->upload($bob, 'diary.md', $diary);
is($bdoc->{status}, 'processed', 'Bob\'s diary processed');

my (undef, undef, $s) = $stack->request(POST => "$base/sessions", auth($alice), {});
my $sid = $s->{id};
sub ask {
	my ($token, $session, $q) = @_;
	my ($code, undef, $r) = $stack->request(POST => "$base/sessions/$session/messages",
		auth($token), { message => $q });
	return ($code, $r);
}

# The worker learns the document from document.processed: wait until a
# question finds it.
my $q = 'What is plate tectonics?';
my $r = wait_until(sub {
	my ($code, $rep) = ask($alice, $sid, $q);
	return $code == 201 && @{ $rep->{assistant_message}{sources} // [] } ? $rep : undef;
});
ok($r, 'the model\'s answer arrives with sources') or BAIL_OUT('no grounded answer');
like($r->{message}, qr/^Your document says: .*outer shell of the Earth.*\[1\]$/,
	'the reply is the model\'s words, citing [1]');
my $src = $r->{assistant_message}{sources}[0];
is($src->{document_id}, $doc->{document_id}, 'sources[0] is the cited document');
is($src->{filename}, 'geology.md', 'sources[0]: filename');
like($src->{excerpt}, qr/Plate tectonics is the theory/, 'sources[0]: the cited passage');
like($src->{section}, qr/Plate tectonics/, 'sources[0]: its section');
my $prompt = peer('last');
like($prompt, qr/What is plate tectonics\?/, 'the prompt carries the question');
like($prompt, qr/\[1\] .*\\n.*outer shell of the Earth/, 'the prompt carries numbered passages');
unlike($prompt, qr/heron/, 'no passage of another user is in the prompt');

# Streaming: the same reply, sentence by sentence, then done.
my $sse = $stack->dir . '/sse';
open(my $fh, '>', "$sse.in") or die $!;
print $fh JSON::PP->new->encode({ message => 'How does igneous rock form?' });
close $fh;
system('curl', '-s', '-N', '-o', $sse, '-D', "$sse.h", '--max-time', '30', '-H',
	"Authorization: Bearer $alice", '-H', 'Content-Type: application/json', '-H',
	'Accept: text/event-stream', '--data-binary', "\@$sse.in",
	$stack->http_url . "$base/sessions/$sid/messages");
my $events = $stack->slurp($sse) // '';
my (@deltas, $done);
for my $block (split /\n\n/, $events) {
	my ($ev) = $block =~ /^event: (\w+)$/m;
	my ($data) = $block =~ /^data: (.*)$/m;
	next unless $ev && defined $data;
	my $d = eval { JSON::PP->new->decode($data) } or next;
	push @deltas, $d->{content} if $ev eq 'delta';
	$done = $d if $ev eq 'done';
}
like($stack->slurp("$sse.h") // '', qr{Content-Type: text/event-stream}i, 'stream: event stream');
ok(@deltas >= 1, 'stream: delta events from the model\'s answer');
is(join('', @deltas), $done->{message} // '', 'stream: the deltas make up the message');
like($done->{message} // '', qr/^Your document says: Igneous rock forms when magma cools.*\[1\]$/,
	'stream: the model\'s cited answer');

# Not covered: declined without asking the model.
my $before = peer('attempts?model=cite');
($st, $r) = ask($alice, $sid, 'Who painted the Mona Lisa?');
like($r->{message}, qr/^Your documents don't cover this\./, 'off-topic: declined');
is_deeply($r->{assistant_message}{sources}, [], 'off-topic: no sources');
is(peer('attempts?model=cite'), $before, 'off-topic: the model was not asked');

# Bob asks about Alice's document: his own passages only, so declined.
my (undef, undef, $bs) = $stack->request(POST => "$base/sessions", auth($bob), {});
($st, $r) = ask($bob, $bs->{id}, $q);
is($st, 201, 'Bob asks: 201');
unlike($r->{message}, qr/outer shell/, 'Bob never gets Alice\'s passage');
ok(!grep({ $_->{document_id} eq $doc->{document_id} } @{ $r->{assistant_message}{sources} }),
	'Bob\'s reply cites nothing of Alice\'s');

# Each failure of the model leaves the extractive answer: quotes with [n]
# (bodies are compared as UTF-8 bytes).
for my $mode (qw(cite-bad fail-500 malformed no-content slow)) {
	peer("mode?set=$mode");
	($st, $r) = ask($alice, $sid, 'What is plate tectonics?');
	is($st, 201, "$mode: 201");
	like($r->{message}, qr/\xe2\x80\x9cPlate tectonics is the theory.*\xe2\x80\x9d \[1\]/,
		"$mode: the extractive answer stands");
	unlike($r->{message}, qr/cheese|Your document says/, "$mode: nothing of the model's");
	is($r->{assistant_message}{sources}[0]{document_id}, $doc->{document_id},
		"$mode: its source is the document");
}
peer('mode?set=');

# The stored history holds what was said.
my (undef, undef, $msgs) = $stack->request(GET => "$base/sessions/$sid/messages", auth($alice));
ok(grep({ $_->{role} eq 'assistant' && $_->{content} =~ /^Your document says:/ } @$msgs),
	'history: the model\'s reply is stored');
is(scalar @$msgs % 2, 0, 'history: every question has its reply');

$stack->stop;
done_testing();
