# The documents service and its worker through nginx: every call of
# docs/api.md, "Documents", each file type with documents the test generates
# (t/documents/gen), study notes, downloads with Range, delete, other users'
# documents, hostile files and bodies, and the events a real Kafka client
# (kcat) reads from the lab's broker.
use strict;
use warnings;

use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;

use Lectern::Test qw(start_stack build_dir src_dir prerequisite skip_unless start_llm_peer multipart_body
	slurp_file);

for my $tool (qw(kcat psql)) {
	if (system("command -v $tool >/dev/null 2>&1") != 0) {
		prerequisite(0, "$tool is not installed");
	}
}

my $gen = build_dir() . '/t/documents/gen';
my $files = tempdir('lectern-docs-XXXXXX', TMPDIR => 1, CLEANUP => 1);
is(system($gen, $files), 0, 't/documents/gen wrote the test documents');

# The test polls documents while they are processed; the rate limit itself is
# tested in auth.t, so this stack's is out of the way.
my $stack = start_stack(env => { LAB_RATE_LIMIT => 100000 });
my $json = JSON::PP->new->canonical;
my $uuid_re = qr/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
my $time_re = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
my $base = '/api/v1/documents';

my ($alice, $alice_id) = $stack->user('alice@example.org');
my ($bob) = $stack->user('bob@example.org');

sub auth { return { Authorization => "Bearer $_[0]", %{ $_[1] // {} } } }

# upload(TOKEN, FILENAME, BYTES, WAIT) -> (status, headers, json)
sub upload {
	my ($token, $filename, $data, $wait) = @_;
	my ($st, $j, $h) = $stack->upload($token, $filename, $data, undef,
		{ path => "$base/upload", fields => { defined $wait ? (wait => $wait) : () } });
	return ($st, $h, $j);
}

sub call { return $stack->request(@_) }

# settle(TOKEN, DOC): the document once its processing ended (GET polled
# up to 60 s); an upload answers with whatever state it reached.
sub settle {
	my ($token, $d) = @_;
	return $d if !$d || !$d->{id} || ($d->{status} // '') =~ /^(processed|failed)$/;
	for (1 .. 240) {
		my (undef, undef, $g) = $stack->request(GET => "$base/$d->{id}", auth($token));
		return $g if ($g->{status} // '') =~ /^(processed|failed)$/;
		select(undef, undef, undef, 0.25);
	}
	return $d;
}

# Bodies are compared as UTF-8 bytes (Lectern::Test decodes JSON without ->utf8).
# --- each file type --------------------------------------------------------
my %docs;
my @types = (
	['one.pdf', 'pdf', 1, qr/Photosynthesis converts light energy/],
	['three.pdf', 'pdf', 3, qr/# Chapter 1.*Chapter 3/s],
	['scan.pdf', 'pdf', 1, qr/PHOTOSYNTHESIS/i],
	['doc.docx', 'docx', 1, qr/# Plate Tectonics.*## Boundaries.*Transform.*Fault line/s],
	['utf8.txt', 'txt', 1, qr/caf\xc3\xa9 owner na\xc3\xafvely/],
	['latin1.txt', 'txt', 1, qr/Un volcan \xc3\xa9met de la lave/],
	['notes.md', 'md', 1, qr/# Graph Algorithms.*## Spanning trees/s],
	['text.png', 'png', 1, qr/PHOTOSYNTHESIS/i],
	['text.jpg', 'jpg', 1, qr/PHOTOSYNTHESIS/i],
);
for my $t (@types) {
	my ($name, $type, $pages, $text_re) = @$t;
	my $bytes = slurp_file("$files/$name");
	my ($st, $h, $d) = upload($alice, $name, $bytes, 25);
	is($st, 201, "$name: upload answers 201");
	# The one-page PDF must be done within the upload itself.
	$d = settle($alice, $d) unless $name eq 'one.pdf';
	$docs{$name} = $d;
	is($d->{status}, 'processed', "$name: processed within the wait") or diag($json->encode($d // {}));
	like($d->{document_id} // '', $uuid_re, "$name: document_id");
	is($d->{id}, $d->{document_id}, "$name: id equals document_id");
	is($d->{filename}, $name, "$name: filename");
	is($d->{file_type}, $type, "$name: file_type detected from the bytes");
	is($d->{file_size}, length $bytes, "$name: file_size");
	like($d->{sha256} // '', qr/^[0-9a-f]{64}$/, "$name: sha256");
	is($d->{pages}, $pages, "$name: pages");
	is_deeply($d->{metadata}, { filename => $name, size => length $bytes, type => $type, pages => $pages },
		"$name: metadata");
	like($d->{content} // '', $text_re, "$name: extracted text");
	ok(length($d->{summary} // '') > 10, "$name: a summary") or diag($d->{summary});
	ok($d->{notes_generated}, "$name: notes_generated");
	like($d->{created_at} // '', $time_re, "$name: created_at");
	like($h->{location} // '', qr{^/api/v1/documents/\Q$d->{id}\E$}, "$name: Location");
}
is(slurp_file("$files/one.pdf") =~ /^%PDF-/ ? 1 : 0, 1, 'the one-page PDF is a PDF');
like($docs{'one.pdf'}{summary}, qr/Photosynthesis|chlorophyll|ribosome|Mitochondria/,
	'a one-page PDF answers with its summary in the upload response');

# --- notes -----------------------------------------------------------------
my $docx = $docs{'doc.docx'}{id};
my ($st, $h, $n) = call(GET => "$base/$docx/notes", auth($alice));
is($st, 200, 'notes answer 200');
is($n->{document_id}, $docx, 'notes: document_id');
is(scalar @{ $n->{notes} // [] }, 1, 'one note after processing');
my $note = $n->{notes}[0] // {};
like($note->{note_id} // '', $uuid_re, 'note_id');
is($note->{id}, $note->{note_id}, 'note id equals note_id');
is($note->{document_id}, $docx, 'note document_id');
is($note->{format}, 'markdown', 'note format');
is($note->{generator}, 'extractive', 'extractive notes without a model');
like($note->{created_at} // '', $time_re, 'note created_at');
my $md = $note->{content} // '';
like($md, qr/^## Summary/m, 'notes have a summary section');
like($md, qr/## Key terms/, 'notes have key terms');
like($md, qr/## Outline.*Plate Tectonics.*Boundaries/s, 'the outline names the headings');
like($md, qr/plate tectonics/i, 'notes name "plate tectonics"');
like($md, qr/subduction/i, 'notes name "subduction"');
unlike($md, qr/lorem|ipsum|TODO|\{\{|\}\}|<[a-z_]+>|\[insert|term 1|placeholder/i, 'no template text in the notes');
my $md_notes = (call(GET => "$base/$docs{'notes.md'}{id}/notes", auth($alice)))[2];
like($md_notes->{notes}[0]{content} // '', qr/algorithm/i, 'Markdown notes name the algorithms');

($st, $h, my $r) = call(POST => "$base/$docx/regenerate-notes", auth($alice));
is($st, 200, 'regenerate-notes answers 200');
is($r->{document_id}, $docx, 'regenerate: document_id');
like($r->{note_id} // '', $uuid_re, 'regenerate: note_id');
is($r->{status}, 'completed', 'regenerate: completed within the wait');
($st, $h, $n) = call(GET => "$base/$docx/notes", auth($alice));
is(scalar @{ $n->{notes} }, 2, 'two notes now');
is($n->{notes}[0]{id}, $r->{note_id}, 'newest first');

# --- get, list ---------------------------------------------------------------
($st, $h, my $got) = call(GET => "$base/$docx", auth($alice));
is($st, 200, 'get answers 200');
like($got->{content}, qr/Plate Tectonics/, 'get carries the content');
($st, $h, my $list) = call(GET => "$base?limit=2", auth($alice));
is($st, 200, 'list answers 200');
is(ref $list, 'ARRAY', 'the list is a bare array');
is(scalar @$list, 2, 'limit=2 gives two');
is($h->{'x-total-count'}, scalar @types, 'X-Total-Count');
like($h->{link} // '', qr/rel="next"/, 'Link rel="next"');
unlike($h->{link} // '', qr/rel="prev"/, 'no prev on the first page');
is($list->[0]{id}, $docs{'text.jpg'}{id}, 'newest first');
ok(!exists $list->[0]{content}, 'lists omit content');
($st, $h, $list) = call(GET => "$base/?limit=2&offset=2", auth($alice));
like($h->{link} // '', qr/rel="prev"/, 'Link rel="prev" on a later page');
is($list->[0]{id}, $docs{'notes.md'}{id}, 'offset skips');
for my $q ('limit=0', 'limit=101', 'offset=-1', 'limit=abc') {
	($st) = call(GET => "$base?$q", auth($alice));
	is($st, 400, "list with $q answers 400");
}

# --- download ----------------------------------------------------------------
my $pdf = $docs{'three.pdf'}{id};
($st, $h, undef, my $raw) = call(GET => "$base/$pdf/download", auth($alice));
is($st, 200, 'download answers 200');
ok($raw eq slurp_file("$files/three.pdf"), 'download gives the bytes back, byte for byte');
like($h->{'content-disposition'} // '', qr/^attachment; filename="three\.pdf"/, 'attachment with the original name');
is($h->{'content-type'}, 'application/pdf', 'download content type');
($st, $h, undef, $raw) = call(GET => "$base/$pdf/download", auth($alice, { Range => 'bytes=0-7' }));
is($st, 206, 'a Range request answers 206');
is($raw, substr(slurp_file("$files/three.pdf"), 0, 8), 'the range holds the first 8 bytes');
like($h->{'content-range'} // '', qr{^bytes 0-7/\d+$}, 'Content-Range');
($st) = call(GET => "/_store/documents/$alice_id/$pdf/original", auth($alice));
is($st, 404, 'the store location is internal');

# --- process ---------------------------------------------------------------
($st, $h, $r) = call(POST => "$base/$pdf/process", auth($alice));
is($st, 202, 'process answers 202');
is($r->{document_id}, $pdf, 'process: document_id');
my $state = '';
for (1 .. 100) {
	$state = (call(GET => "$base/$pdf", auth($alice)))[2]{status} // '';
	last if $state eq 'processed';
	select(undef, undef, undef, 0.1);
}
is($state, 'processed', 'processed again');
($st, $h, $n) = call(GET => "$base/$pdf/notes", auth($alice));
is(scalar @{ $n->{notes} }, 2, 'reprocessing added notes');

# --- another user, no user ---------------------------------------------------
my @calls = (
	[GET => "$base/$pdf"], [GET => "$base/$pdf/download"], [GET => "$base/$pdf/notes"],
	[POST => "$base/$pdf/process"], [POST => "$base/$pdf/regenerate-notes"], [DELETE => "$base/$pdf"],
);
my ($missing_st, undef, $missing) = call(GET => "$base/00000000-0000-4000-8000-000000000000", auth($bob));
is($missing_st, 404, 'a missing document answers 404');
for my $c (@calls) {
	my ($s, undef, $b) = call($c->[0], $c->[1], auth($bob));
	is($s, 404, "bob: $c->[0] $c->[1] answers 404");
	is($b->{message}, $missing->{message}, 'exactly as a missing one');
}
($st, $h, $list) = call(GET => $base, auth($bob));
is_deeply($list, [], "bob's list is empty");
is($h->{'x-total-count'}, 0, "bob's total is 0");
($st) = call(GET => "$base/not-a-uuid", auth($alice));
is($st, 404, 'a malformed id answers 404');
# Other spellings of the owner's own id are malformed ids too (issue 17:
# curl without -g globs "{...}" away, so the probe must send the braces).
for my $form ("{$pdf}", "%7B$pdf%7D", "urn:uuid:$pdf", "$pdf}", "{$pdf", "${pdf}0", "%20$pdf") {
	my ($s, undef, $b) = call(GET => "$base/$form", auth($alice));
	is($s, 404, "the id written as '$form' answers 404");
	is($b->{message}, $missing->{message}, "'$form': exactly as a missing one");
	($s) = call(GET => "$base/$form/notes", auth($alice));
	is($s, 404, "notes of the id written as '$form' answer 404");
}
for my $c (@calls, [GET => $base]) {
	my ($s) = call($c->[0], $c->[1]);
	is($s, 401, "no token: $c->[0] $c->[1] answers 401");
}
($st) = call(GET => "$base/$pdf", { Authorization => "Bearer $bob", 'X-User-Id' => $alice_id });
is($st, 404, 'a forged identity header changes nothing');

# --- hostile files ---------------------------------------------------------
for my $t (['bomb.docx', qr/./], ['huge.pdf', qr/pages/], ['truncated.pdf', qr/PDF|read/i],
	['giant.png', qr/pixel|image|large/i])
{
	my ($name, $why) = @$t;
	my ($s, undef, $d) = upload($alice, $name, slurp_file("$files/$name"), 25);
	is($s, 201, "$name: accepted for processing");
	$d = settle($alice, $d);
	is($d->{status}, 'failed', "$name: fails") or diag($json->encode($d // {}));
	like($d->{error} // '', $why, "$name: with a clear error") and note("$name: $d->{error}");
	is($d->{content}, '', "$name: no content");
}
($st, $h, my $e) = upload($alice, 'empty.txt', '', 5);
is($st, 400, 'an empty file answers 400');
like($e->{message} // '', qr/empty/i, 'saying it is empty');
is($e->{error}, 'invalid_request', 'error code');

($st, $h, my $trick) = upload($alice, '../../etc/passwd', "root:x:0:0 is a line of text.\n", 10);
is($st, 201, 'a path-like name is accepted');
is($trick->{filename}, 'passwd', 'only its last segment is kept, for display');
ok(!-e $stack->dir . "/store/etc/passwd", 'nothing is written outside the store key');
($st, $h) = call(GET => "$base/$trick->{id}/download", auth($alice));
like($h->{'content-disposition'} // '', qr/filename="passwd"/, 'downloads under the display name');
($st, $h, $trick) = upload($alice, "a\x01b\x1bc\x7fd.txt", "Plain words for a test.\n", 10);
is($st, 201, 'a name with control characters is accepted');
is($trick->{filename}, 'abcd.txt', 'control characters are dropped from the name');
my $nul_accepted = 0;
{
	# A NUL inside the quoted name.
	my ($body, $ct) = multipart_body(['file', "nul\0name.txt", "Some text.\n"]);
	my ($s, undef, $d) = call(POST => "$base/upload", auth($alice, { 'Content-Type' => $ct }), $body);
	ok($s == 201 || $s == 400, 'a NUL in the name is refused or dropped') or diag($s);
	$nul_accepted = $s == 201 ? 1 : 0;
	unlike($d->{filename} // '', qr/\0/, 'no NUL in a stored name') if $s == 201;
}

($st, $h, $e) = upload($alice, 'program.bin', slurp_file("$files/binary.bin"), 0);
is($st, 415, 'a file of another type answers 415');
is($e->{error}, 'unsupported_media_type', '415 error code');
($st, $h, $e) = call(POST => "$base/upload", auth($alice, { 'Content-Type' => 'application/json' }), '{"a":1}');
is($st, 415, 'a JSON body answers 415');
{
	my ($body, $ct) = multipart_body(['other', 'x.txt', "Some text.\n"], ['wait', undef, '1']);
	($st, $h, $e) = call(POST => "$base/upload", auth($alice, { 'Content-Type' => $ct }), $body);
	is($st, 400, 'no `file` part answers 400');
	($body, $ct) = multipart_body(['file', 'x.txt', "Some text.\n"]);
	$body =~ s/--\r\n$//;
	($st, $h, $e) = call(POST => "$base/upload", auth($alice, { 'Content-Type' => $ct }), $body);
	is($st, 400, 'a body without its closing boundary answers 400');
	($st, $h, $e) = call(POST => "$base/upload", auth($alice, { 'Content-Type' => $ct }), "garbage\r\n\r\n");
	is($st, 400, 'a body that is not multipart answers 400');
	($st, $h, $e) = call(POST => "$base/upload", auth($alice, { 'Content-Type' => 'multipart/form-data' }), "x");
	is($st, 400, 'multipart without a boundary answers 400');
	($body, $ct) = multipart_body(['file', 'x.txt', "Some text.\n"], ['wait', undef, '31']);
	($st, $h, $e) = call(POST => "$base/upload", auth($alice, { 'Content-Type' => $ct }), $body);
	is($st, 400, 'wait=31 answers 400');
}
{
	my $big = 'A' x (25 * 1024 * 1024 + 200 * 1024);
	($st, $h, $e) = upload($alice, 'big.txt', $big, 0);
	is($st, 413, 'a body over the 25 MiB limit answers 413');
	is($e->{error}, 'payload_too_large', '413 error code');
	$big .= 'A' x (2 * 1024 * 1024);
	($st, $h, $e) = upload($alice, 'bigger.txt', $big, 0);
	is($st, 413, 'a body over nginx\'s limit answers 413 too');
	is($e->{error}, 'payload_too_large', 'as JSON');
}
(undef, my $ch) = call(GET => "$base?limit=1", auth($alice));
is($ch->{'x-total-count'}, scalar(@types) + 4 + 2 + $nul_accepted, 'refused uploads left no document');

# --- delete -------------------------------------------------------------------
my $victim = $docs{'one.pdf'}{id};
my $stored = $stack->dir . "/store/documents/$alice_id/$victim/original";
ok(-e $stored, 'the stored file exists before delete');
($st, $h, $r) = call(DELETE => "$base/$victim", auth($alice));
is($st, 200, 'delete answers 200');
is($r->{document_id}, $victim, 'delete: document_id');
ok(length($r->{message} // ''), 'delete: message');
($st) = call(GET => "$base/$victim", auth($alice));
is($st, 404, 'a deleted document answers 404');
($st) = call(GET => "$base/$victim/notes", auth($alice));
is($st, 404, 'its notes answer 404');
($st) = call(DELETE => "$base/$victim", auth($alice));
is($st, 404, 'a second delete answers 404');
ok(!-e $stored, 'the stored file is gone');
my $dsn = `@{[src_dir()]}/tools/lab-postgres admin-dsn @{[$stack->dir]}/postgres @{[$stack->port('pg')]}`;
chomp $dsn;
$dsn =~ s/dbname=\S+/dbname=lectern_documents/;
my $left = `psql "$dsn" -At -c "SELECT (SELECT count(*) FROM notes WHERE document_id = '$victim') + (SELECT count(*) FROM documents WHERE id = '$victim')" 2>&1`;
chomp $left;
is($left, '0', 'no row and no note is left');

# --- events ------------------------------------------------------------------
my $bs = $stack->slurp($stack->dir . '/run/kafka.bootstrap') // '';
chomp $bs;
like($bs, qr/^[\w.-]+:\d+$/, 'the lab broker wrote its address');
my ($up) = $stack->wait_events('document.uploaded', sub { ($_[0]{payload}{document_id} // '') eq $docx });
ok($up, 'kcat reads document.uploaded');
is($up->{event_type}, 'document.uploaded', 'envelope event_type');
is($up->{producer}, 'documents', 'envelope producer');
is($up->{user_id}, $alice_id, 'envelope user_id');
is($up->{payload}{file_type}, 'docx', 'uploaded: file_type');
is($up->{payload}{filename}, 'doc.docx', 'uploaded: filename');
my @pr = $stack->wait_events('document.processed',
	sub { ($_[0]{payload}{document_id} // '') eq $docx && $_[0]{payload}{status} eq 'processed' });
ok(@pr, 'kcat reads document.processed');
like($pr[0]{payload}{text} // '', qr/Plate Tectonics/, 'document.processed carries the text');
is_deeply($pr[0]{payload}{chunk}, { index => 0, count => 1 }, 'a small text is one chunk');
is($pr[0]{payload}{pages}, 1, 'processed: pages');
my @failed = $stack->wait_events('document.processed', sub { ($_[0]{payload}{status} // '') eq 'failed' });
ok(@failed >= 4, 'failed documents are announced too');
my @ng = $stack->wait_events('notes.generated', sub { ($_[0]{payload}{document_id} // '') eq $docx });
ok(@ng >= 2, 'kcat reads notes.generated for each note');
like($ng[0]{payload}{content} // '', qr/## Summary/, 'notes.generated carries the notes');
like($ng[0]{payload}{note_id} // '', $uuid_re, 'notes.generated: note_id');
my ($del) = $stack->wait_events('document.deleted', sub { ($_[0]{payload}{document_id} // '') eq $victim });
ok($del, 'kcat reads document.deleted');
is($del->{payload}{user_id}, $alice_id, 'deleted: user_id');

# A large text goes out as ordered chunks.
my $long = join('', map { "Sentence number $_ talks about glaciers and moraines. " } 1 .. 6000);
($st, $h, my $ld) = upload($alice, 'long.txt', $long, 25);
$ld = settle($alice, $ld);
is($ld->{status}, 'processed', 'a 300 KB text is processed');
my @chunks;
for (1 .. 100) {
	@chunks = sort { $a->{payload}{chunk}{index} <=> $b->{payload}{chunk}{index} }
		grep { ($_->{payload}{document_id} // '') eq $ld->{id} } $stack->events('document.processed');
	last if @chunks && @chunks == $chunks[0]{payload}{chunk}{count};
	select(undef, undef, undef, 0.2);
}
ok(@chunks > 1, 'a large text is split into chunks') or diag(scalar @chunks);
is(join('', map { $_->{payload}{text} } @chunks), $ld->{content}, 'the chunks join into the text');
is_deeply([map { $_->{payload}{chunk}{index} } @chunks], [0 .. $#chunks], 'indexes are 0..count-1');

# --- notes from a model ------------------------------------------------------
# A second stack whose worker asks t/llm-peer.py (a chat-completions test
# server) for the notes, grounded in the document's text.
SKIP: {
	skip_unless(-x '/usr/bin/python3', '/usr/bin/python3 is missing', 5);
	my ($peer, $llm_url) = start_llm_peer($files, 'test-llm-key');
	(my $port = $llm_url) =~ s{^http://127\.0\.0\.1:(\d+)/v1$}{$1};
	my $llm = start_stack(env => { LECTERN_LLM_BASE_URL => $llm_url,
		LECTERN_LLM_API_KEY => 'test-llm-key', LECTERN_LLM_MODEL => 'notes' });
	my ($s, $reg) = $llm->register('carol@example.org', 'correct horse battery', 'Carol');
	my (undef, $d) = $llm->upload($reg->{token}, 'notes.md', slurp_file("$files/notes.md"));
	is($d->{status}, 'processed', 'with a model: processed');
	my (undef, undef, $ln) = $llm->request(GET => "$base/$d->{id}/notes", { Authorization => "Bearer $reg->{token}" });
	my $lnote = $ln->{notes}[0] // {};
	is($lnote->{generator}, 'llm:notes', 'the notes come from the model');
	like($lnote->{content} // '', qr/## Summary.*## Key terms/s, 'the model\'s notes have the sections');
	like($lnote->{content} // '', qr/Graph Algorithms/, 'grounded in the document (its first heading)');
	my $last = `curl -s http://127.0.0.1:$port/_peer/last`;
	like($last, qr/Dijkstra/, 'the prompt carried the document\'s text');
	$llm->stop;
	kill 'TERM', $peer;
	waitpid($peer, 0);
}

# --- a documentation chapter in reStructuredText, uploaded as .txt ------------
# Written for this test in the style projects ship their .txt sources in.
my $chapter = <<'RST';
.. _tut-classes:

*******
Classes
*******

Classes bundle data and behaviour.  Each class definition creates a new *type*
of object, and a :term:`class object` makes new *instances* of that type.

.. index:: single: class object

Names and Objects
=================

An object may have several names bound to it, a practice called aliasing.
Aliasing rarely matters for immutable values such as numbers and strings.

Scopes and Namespaces
=====================

A *namespace* is a mapping from names to objects.  Each module has its own
global namespace, and every call of a function gets a new local namespace.
Names in different namespaces never clash.

Scopes Example
--------------

This example binds ``counter`` in three scopes::

   def outer():
       # Function defined outside the class
       counter = 1

The local namespace of ``outer`` holds the name.

A First Look at Classes
=======================

Class Definition Syntax
-----------------------

A class definition is a compound statement that starts with :keyword:`class`.
The statements inside a class definition are usually function definitions.

Class Objects
-------------

A class object supports two kinds of operations: attribute references and
instantiation.  Calling :class:`Counter` creates a new instance, and
:meth:`~object.__init__` sets up the instance state [#]_.

>>> c = Counter()
>>> c.step()

Instance Objects
----------------

The only operations an instance object understands are attribute references.
A data attribute of an instance object needs no declaration.

Method Objects
--------------

A method object is a function object bound to an instance object.  When a
method object is called, the instance object is passed as the first argument.
A method object can be stored and called later.

Class and Instance Variables
----------------------------

Instance variables hold data unique to each instance, while class variables
hold data shared by every instance of the class.

Inheritance
===========

A derived class is a class that extends a base class.  The derived class
inherits the attributes of the base class and may override its methods.

Multiple Inheritance
--------------------

A class may name several base classes.  The method resolution order decides
which base class supplies an attribute.

Private Variables
=================

Names with two leading underscores are mangled, which keeps private variables
of a base class apart from those of a derived class.

.. [#] The instance state lives in the instance's namespace.
RST
{
	my ($carol) = $stack->user('dana@example.org');
	my ($st, undef, $d) = upload($carol, 'classes.txt', $chapter, 25);
	is($st, 201, 'classes.txt: upload answers 201');
	$d = settle($carol, $d);
	is($d->{file_type}, 'txt', 'classes.txt: a .txt that looks like markup stays txt');
	is($d->{status}, 'processed', 'classes.txt: processed');
	like($d->{content} // '', qr/:meth:`~object.__init__`/, 'the stored content keeps the original');
	my (undef, undef, $n) = call(GET => "$base/$d->{id}/notes", auth($carol));
	my $md = $n->{notes}[0]{content} // '';
	diag($md) if $ENV{NOTES_PRINT};
	my ($outline) = $md =~ /## Outline\n\n(.*?)(?:\n## |\z)/s;
	is($outline // '', join('', map { "$_\n" }
		'- Classes',
		'  - Names and Objects',
		'  - Scopes and Namespaces',
		'    - Scopes Example',
		'  - A First Look at Classes',
		'    - Class Definition Syntax',
		'    - Class Objects',
		'    - Instance Objects',
		'    - Method Objects',
		'    - Class and Instance Variables',
		'  - Inheritance',
		'    - Multiple Inheritance',
		'  - Private Variables'), 'the outline is the chapter\'s sections, nested');
	my ($terms) = $md =~ /## Key terms\n\n(.*?)\n\n/s;
	$terms //= '';
	my @multi = $terms =~ /^- \*\*([^*\n]+ [^*\n]+)\*\*/mg;
	ok(@multi >= 4, 'multiword key terms: ' . join(', ', @multi));
	like($terms, qr/\*\*(method object|instance object|derived class|base class)\*\*/, 'a named multiword term');
	like($terms, qr/\*\*namespace\*\*: a mapping from names to objects/, 'a key term with its definition');
	unlike($terms, qr/counter|outer|__init__|Counter\(\)/, 'no code tokens among the key terms');
	my ($points) = $md =~ /## Key points\n\n(.*)\z/s;
	$points //= '';
	ok(length $points, 'key points present');
	unlike($points, qr/:[a-z]+:`|``|\*\w|\[#\]_|>>>/, 'key points are free of markup');
	unlike($md, qr/Function defined outside/, 'code comments are neither headings nor points');
	unlike($points, qr/^- [a-z]/m, 'no key point starts mid-sentence');
	my ($s2, undef, $e2) = upload($carol, 'classes.pdf', $chapter, 0);
	is($s2, 415, 'a .pdf name on text bytes answers 415');
	my ($s3, undef, $d3) = upload($carol, 'chapter', "# Title\n\nSome *text* here.\n- one\n- two\n", 0);
	is($s3, 201, 'a name without an extension is sniffed');
	is($d3->{file_type}, 'md', 'and Markdown bytes make it md');
}

# --- health --------------------------------------------------------------------
($st, $h, my $health) = call(GET => "$base/health");
is($st, 200, 'health answers 200');
is($health->{service}, 'documents', 'health: service');
is($health->{status}, 'ok', 'health: ok');

done_testing();
