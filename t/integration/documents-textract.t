# The documents worker with LECTERN_EXTRACT_ENGINE=textract, through nginx,
# against t/textract-peer.py (every call's SigV4 signature is recomputed by
# botocore). The peer answers an image with "TEXTRACT READ <n> BYTES", a
# text no local engine could produce, so the content proves the path. PDFs
# of the file store and text files stay with the local engines; a refused
# signature and an unreachable Textract fail the document with a clear
# error. Skipped without /usr/bin/python3 and python3-botocore.
use strict;
use warnings;

use File::Temp qw(tempdir);
use JSON::PP;
use POSIX ();
use Test::More;

use Lectern::Test qw(start_stack build_dir src_dir prerequisite skip_unless python_has start_peer stop_peer
	slurp_file);

prerequisite(python_has('botocore'), 'python3-botocore is not installed');

my $dir = tempdir('lectern-docs-textract-XXXXXX', TMPDIR => 1, CLEANUP => 1);
is(system(build_dir() . '/t/documents/gen', $dir), 0, 't/documents/gen wrote the test documents');
my ($key, $secret, $token) = ('AKIDLECTERNDOCS', 'docs-textract-secret/+z', 'docs-textract-token');
my $json = JSON::PP->new->canonical;
my $base = '/api/v1/documents';

# --- the Textract peer -------------------------------------------------------
my ($peer, $port) = start_peer("$dir/peer", 'textract-peer.py', '--access-key', $key,
	'--secret', $secret, '--token', $token);

# The settings of a worker that reads through the peer; $secret_used lets a
# stack sign with a key the peer does not know.
sub textract_env {
	my ($secret_used) = @_;
	return (
		LECTERN_EXTRACT_ENGINE        => 'textract',
		AWS_ACCESS_KEY_ID             => $key,
		AWS_SECRET_ACCESS_KEY         => $secret_used,
		AWS_SESSION_TOKEN             => $token,
		AWS_REGION                    => 'us-east-1',
		LECTERN_AWS_ENDPOINT_TEXTRACT => "http://127.0.0.1:$port",
		LECTERN_AWS_MAX_ATTEMPTS      => 2,
		LECTERN_AWS_BACKOFF_MS        => 50,
	);
}

# --- start-up validation (no stack needed: it stops before any connection) --
my $worker = build_dir() . '/lectern-documents-worker';
sub worker_start {
	my (%env) = @_;
	my $pid = fork() // die "fork: $!";
	if ($pid == 0) {
		# Every other required setting is given (nothing is connected to
		# before the checks), so only the engine's problem stops the start.
		%ENV = (PATH => $ENV{PATH}, LECTERN_STORE_ROOT => "$dir/store",
			LECTERN_DB_DSN => 'dbname=none host=/nonexistent',
			LECTERN_KAFKA_BOOTSTRAP => '127.0.0.1:1', %env);
		# A failed exec must not run this test's END blocks (they stop the peer).
		open(STDOUT, '>', "$dir/worker.out") or POSIX::_exit(127);
		open(STDERR, '>&', \*STDOUT) or POSIX::_exit(127);
		exec($worker);
		print STDERR "exec $worker: $!\n";
		POSIX::_exit(127);
	}
	waitpid($pid, 0);
	return ($? >> 8, slurp_file("$dir/worker.out") // '');
}
{
	my ($rc, $out) = worker_start(LECTERN_EXTRACT_ENGINE => 'tesseract');
	is($rc, 1, 'an unknown engine stops the worker at start');
	like($out, qr/LECTERN_EXTRACT_ENGINE: \\"tesseract\\" is not one of \\"local\\", \\"textract\\"/, '... saying which values work');
	($rc, $out) = worker_start(LECTERN_EXTRACT_ENGINE => 'textract');
	is($rc, 1, 'textract without AWS keys stops the worker at start');
	like($out, qr/needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/, '... naming the missing settings');
	($rc, $out) = worker_start(textract_env($secret), LECTERN_AWS_ENDPOINT_TEXTRACT => 'ftp://127.0.0.1:1');
	is($rc, 1, 'a bad Textract endpoint stops the worker at start');
	unlike($out, qr/\Q$secret\E/, 'the secret key is never logged');
}

# --- helpers through nginx ---------------------------------------------------
sub auth { return { Authorization => "Bearer $_[0]", %{ $_[1] // {} } } }

sub upload {
	my ($stack, $tok, $name, $data) = @_;
	my ($st, $d) = $stack->upload($tok, $name, $data);
	is($st, 201, "$name: upload answers 201");
	# The upload answers with what it has; wait for the end of processing.
	for (1 .. 300) {
		last if !$d || !$d->{id} || ($d->{status} // '') =~ /^(processed|failed)$/;
		select(undef, undef, undef, 0.1);
		(undef, undef, $d) = $stack->request(GET => "$base/$d->{id}", auth($tok));
	}
	return $d // {};
}

my %file = map { $_ => slurp_file("$dir/$_") } qw(text.png text.jpg one.pdf utf8.txt doc.docx);

# --- a worker that signs correctly -------------------------------------------
{
	my $stack = start_stack(env => { textract_env($secret) });
	my ($tok) = $stack->user('reader@example.org');
	for my $name (qw(text.png text.jpg)) {
		my $d = upload($stack, $tok, $name, $file{$name});
		is($d->{status}, 'processed', "$name: processed") or diag($json->encode($d));
		my $n = length $file{$name};
		like($d->{content} // '', qr/^TEXTRACT READ \Q$n\E BYTES\nsecond line\n?$/,
			"$name: the content is what Textract answered for these $n bytes");
		unlike($d->{content} // '', qr/PHOTOSYNTHESIS/i, "$name: not the local OCR's reading");
		is($d->{pages}, 1, "$name: one page");
		ok($d->{notes_generated}, "$name: notes from Textract's text");
	}
	my $pdf = upload($stack, $tok, 'one.pdf', $file{'one.pdf'});
	is($pdf->{status}, 'processed', 'one.pdf: processed') or diag($json->encode($pdf));
	like($pdf->{content} // '', qr/Photosynthesis converts light energy/,
		'one.pdf: read by the local engine, as the file store is not S3');
	my $log = slurp_file($stack->dir . '/log/documents-worker.log') // '';
	like($log, qr/document \Q$pdf->{id}\E: PDF read by the local engine/,
		'one.pdf: the worker logs why the PDF stayed local');
	like($log, qr/images by Amazon Textract/, 'the worker names its engine at start');
	unlike($log, qr/\Q$secret\E/, 'the worker never logs the secret key');
	for ([ 'utf8.txt', qr/caf\xc3\xa9 owner/ ], [ 'doc.docx', qr/# Plate Tectonics/ ]) {
		my ($name, $re) = @$_;
		my $d = upload($stack, $tok, $name, $file{$name});
		is($d->{status}, 'processed', "$name: processed");
		like($d->{content} // '', $re, "$name: read by the local engine (Textract does not read it)");
	}
	$stack->stop;
}

# --- a worker whose signature the peer refuses, then no peer at all ---------
{
	my $stack = start_stack(env => { textract_env('not-the-secret-the-peer-knows') });
	my ($tok) = $stack->user('refused@example.org');
	my $d = upload($stack, $tok, 'text.png', $file{'text.png'});
	is($d->{status}, 'failed', 'a refused signature fails the document') or diag($json->encode($d));
	is($d->{error}, 'Textract refused the credentials', '... with a clear error');
	is($d->{content}, '', '... and no content');
	stop_peer($peer);
	$d = upload($stack, $tok, 'text.jpg', $file{'text.jpg'});
	is($d->{status}, 'failed', 'an unreachable Textract fails the document') or diag($json->encode($d));
	is($d->{error}, 'Textract is not available', '... with a clear error');
	my ($st, undef, $list) = $stack->request(GET => "$base/", auth($tok));
	is($st, 200, 'the failed documents are still listed');
	is(scalar @{ $list // [] }, 2, '... both of them');
	$stack->stop;
}

# --- PDFs in S3: an asynchronous Textract job on the stored object ----------
# Needs the lab's S3 store (s3rver behind t/aws-peer.py: start_stack's s3
# option). The lab gives the worker its own AWS keys, so the peer is started
# after the stack, with those keys, on a port chosen before.
SKIP: {
	my $s3rver = $ENV{LECTERN_S3RVER} // src_dir() . '/t/node_modules/.bin/s3rver';
	skip_unless(-x $s3rver, 'the S3 lab needs s3rver (npm ci in t/)', 5);
	my ($tport) = Lectern::Test::free_ports(1);
	my $stack = start_stack(s3 => 1, env => {
		LECTERN_EXTRACT_ENGINE        => 'textract',
		LECTERN_AWS_ENDPOINT_TEXTRACT => "http://127.0.0.1:$tport",
		LECTERN_TEXTRACT_POLL_MS      => 100,
	});
	my %lab = map { /^([A-Z_0-9]+)=(.*)$/ ? ($1, $2) : () }
		split /\n/, (slurp_file($stack->dir . '/etc/documents.env') // '');
	skip 'this lab has no S3 store', 5 unless ($lab{LECTERN_STORE} // '') eq 's3';
	($peer) = start_peer("$dir/peer", 'textract-peer.py', '--port', $tport,
		'--access-key', $lab{AWS_ACCESS_KEY_ID}, '--secret', $lab{AWS_SECRET_ACCESS_KEY}, '--token', $lab{AWS_SESSION_TOKEN} // '',
		'--region', $lab{AWS_REGION});
	my ($tok) = $stack->user('s3reader@example.org');
	my $d = upload($stack, $tok, 'one.pdf', $file{'one.pdf'});
	is($d->{status}, 'processed', 'S3: one.pdf processed') or diag($json->encode($d));
	# The peer's job answers three pages, whatever the object holds.
	like($d->{content} // '', qr/^Chapter One\nCells are the units of life\.\n\fChapter Two\n.*\fChapter Three\n/s,
		'S3: the PDF was read by a Textract job, page by page');
	is($d->{pages}, 3, 'S3: pages as Textract counted them');
	$stack->stop;
	stop_peer($peer);
}

done_testing();
