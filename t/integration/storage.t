# The documents service with the S3 store (`tools/lab up --s3`): s3rver
# behind t/aws-peer.py, which checks every SigV4 signature with botocore.
# Uploads through nginx, downloads as a redirect to a presigned URL (the
# bytes, a Range, a tampered URL refused), delete, then the store
# unreachable and a wrong secret: a JSON 503 and nothing half-written.
use strict;
use warnings;

use Digest::SHA qw(sha256_hex);
use File::Find;
use File::Temp qw(tempdir);
use HTTP::Tiny;
use JSON::PP;
use Test::More;

use Lectern::Test qw(start_stack build_dir src_dir prerequisite python_has start_peer stop_peer slurp_file);

my $s3rver = $ENV{LECTERN_S3RVER} // src_dir() . '/t/node_modules/.bin/s3rver';
prerequisite(-x $s3rver, 's3rver not found (npm ci --prefix t, or set LECTERN_S3RVER)');
prerequisite(python_has('botocore'), 'python3-botocore is not installed');
prerequisite(system('command -v psql >/dev/null 2>&1') == 0, 'psql is not installed');

my $files = tempdir('lectern-storage-XXXXXX', TMPDIR => 1, CLEANUP => 1);
is(system(build_dir() . '/t/documents/gen', $files), 0, 't/documents/gen wrote the test documents');

# Parts of 5 MiB (S3's smallest), so a 6 MiB upload goes up in two.
my $part = 5 * 1024 * 1024;
my $stack = start_stack(s3 => 1, env => { LECTERN_S3_PART_SIZE => $part });
my $dir = $stack->dir;
my $base = '/api/v1/documents';
my $json = JSON::PP->new->canonical;
my $http = HTTP::Tiny->new(timeout => 30, max_redirect => 0, keep_alive => 0);

sub env_value {
	my ($file, $name) = @_;
	my ($v) = ($stack->slurp($file) // '') =~ /^\Q$name\E=(.*)$/m;
	return $v;
}

my $peer_port = ($stack->slurp("$dir/run/s3.port") // '') =~ /(\d+)/ ? $1 : 0;
my $endpoint = "http://127.0.0.1:$peer_port";
my $env = "$dir/etc/documents.env";
is(env_value($env, 'LECTERN_STORE'), 's3', 'the documents service is set to the S3 store');
is(env_value($env, 'LECTERN_S3_ENDPOINT'), $endpoint, 'through the signature check');
ok(length(env_value($env, 'AWS_SESSION_TOKEN') // ''), 'with a session token');
like(`LAB_DIR=$dir @{[src_dir()]}/tools/lab status`, qr/^s3:\s+running \Q$endpoint\E bucket lectern/m,
	'tools/lab status shows the S3 line');

my ($st, $reg) = $stack->register('stella@example.org', 'correct horse battery', 'Stella');
is($st, 201, 'registered a user');
my $token = $reg->{token};
my $user_id = $reg->{user}{id};
sub auth { return { Authorization => "Bearer $token", %{ $_[0] // {} } } }
sub call { return $stack->request(@_) }

# upload(FILENAME, BYTES, WAIT) -> (status, headers, json, raw body)
sub upload {
	my ($filename, $data, $wait) = @_;
	my ($st, $j, $h, $raw) = $stack->upload($token, $filename, $data, undef,
		{ path => "$base/upload", fields => { wait => $wait } });
	return ($st, $h, $j, $raw);
}

# Objects in s3rver's data directory (it keeps one file per object plus
# metadata files next to it).
sub stored_objects {
	my @found;
	find({ no_chdir => 1, wanted => sub { push @found, $_ if /\._S3rver_object$/ } }, "$dir/s3");
	return sort @found;
}

my (undef, undef, $health) = call(GET => "$base/health");
is($health->{checks}{storage}{status}, 'ok', 'health: the S3 store answers');

# --- upload, processing from S3 ---------------------------------------------
my $pdf = slurp_file("$files/three.pdf");
($st, my $h, my $doc) = upload('three.pdf', $pdf, 25);
is($st, 201, 'a PDF upload answers 201');
my $id = $doc->{id} // '';
for (1 .. 300) {
	last if ($doc->{status} // '') =~ /^(processed|failed)$/;
	select(undef, undef, undef, 0.1);
	(undef, undef, $doc) = call(GET => "$base/$id", auth());
}
is($doc->{status}, 'processed', 'the worker read it back from S3 and processed it')
	or diag($json->encode($doc // {}));
like($doc->{content} // '', qr/Chapter 3/, 'its text was extracted');
is($doc->{sha256}, sha256_hex($pdf), 'the SHA-256 computed while streaming is the file\'s');
my @objects = stored_objects();
is(scalar @objects, 1, 's3rver holds one object');
like($objects[0] // '', qr{/lectern/documents/\Q$user_id\E/\Q$id\E/original\._S3rver_object$},
	'keyed documents/<user>/<id>/original in the bucket');

# --- download: a redirect to a presigned URL --------------------------------
($st, $h) = call(GET => "$base/$id/download", auth());
is($st, 302, 'download answers a redirect');
my $url = $h->{location} // '';
like($url, qr{^\Q$endpoint\E/lectern/documents/\Q$user_id\E/\Q$id\E/original\?}, 'to the object in the store');
like($url, qr/[?&]X-Amz-Signature=[0-9a-f]{64}(&|$)/, 'signed in the query');
like($url, qr/[?&]X-Amz-Expires=\d+/, 'short-lived');
like($url, qr/[?&]X-Amz-Security-Token=/, 'carrying the session token');
my $r = $http->get($url);
is($r->{status}, 200, 'the presigned URL works');
ok($r->{content} eq $pdf, 'and gives the bytes back, byte for byte');
is($r->{headers}{'content-type'}, 'application/pdf', 'with the document\'s content type');
like($r->{headers}{'content-disposition'} // '', qr/^attachment; filename="three\.pdf"/,
	'and its name, as an attachment');
$r = $http->get($url, { headers => { Range => 'bytes=0-7' } });
is($r->{status}, 206, 'a Range request on it answers 206');
is($r->{content}, substr($pdf, 0, 8), 'with the first 8 bytes');
is($r->{headers}{'content-range'}, 'bytes 0-7/' . length($pdf), 'and Content-Range');
$r = $http->get($url, { headers => { Range => 'bytes=1000-1999' } });
ok($r->{status} == 206 && $r->{content} eq substr($pdf, 1000, 1000), 'a range in the middle');

# Tampering with any part of the URL breaks its signature.
(my $other_key = $url) =~ s{/original\?}{/originam?};
(my $longer = $url) =~ s/X-Amz-Expires=\d+/X-Amz-Expires=604800/;
(my $forged = $url) =~ s/(X-Amz-Signature=)([0-9a-f])/$1 . ($2 eq '0' ? '1' : '0')/e;
(my $unsigned = $url) =~ s/\?.*//;
(my $renamed = $url) =~ s/three\.pdf/evil.html/g;
for my $t (['another key', $other_key], ['a longer lifetime', $longer], ['a changed signature', $forged],
	['another download name', $renamed])
{
	$r = $http->get($t->[1]);
	is($r->{status}, 403, "a URL with $t->[0] is refused 403");
	like($r->{content}, qr{<Code>SignatureDoesNotMatch</Code>}, 'as a signature mismatch');
}
$r = $http->get($unsigned);
is($r->{status}, 403, 'the object without a signature is refused 403');

# A name with non-ASCII bytes, '%', ';' and a quote survives the signature.
my $odd = "R\xc3\xa9sum\xc3\xa9 final' 100%; x.pdf";
($st, $h, my $od) = upload($odd, $pdf, 0);
is($st, 201, 'an upload with an odd name answers 201');
($st, $h) = call(GET => "$base/$od->{id}/download", auth());
$r = $http->get($h->{location} // '');
is($r->{status}, 200, 'its presigned URL holds its signature');
like($r->{headers}{'content-disposition'} // '', qr/filename\*=UTF-8''R%C3%A9sum%C3%A9%20final%27%20100%25%3B%20x\.pdf/,
	'and names the download in UTF-8') or diag($r->{headers}{'content-disposition'});

# --- a multipart upload through the service -----------------------------------
my $big = '';
$big .= "Line $_ of a long text about rivers, deltas and sediment.\n" for 1 .. 110000;
ok(length($big) > $part, 'a text larger than one part');
($st, $h, my $bd) = upload('rivers.txt', $big, 0);
is($st, 201, 'a 6 MiB upload answers 201');
is($bd->{file_size}, length $big, 'file_size');
is($bd->{sha256}, sha256_hex($big), 'SHA-256 over both parts');
($st, $h) = call(GET => "$base/$bd->{id}/download", auth());
$r = $http->get($h->{location} // '');
ok($r->{status} == 200 && $r->{content} eq $big, 'the presigned URL gives the multipart object back');
$r = $http->get($h->{location} // '', { headers => { Range => 'bytes=' . ($part - 4) . '-' . ($part + 3) } });
ok($r->{status} == 206 && $r->{content} eq substr($big, $part - 4, 8), 'a Range across the part boundary');

# --- delete ----------------------------------------------------------------------
($st) = call(DELETE => "$base/$bd->{id}", auth());
is($st, 200, 'delete answers 200');
is(scalar(grep { m{/\Q$bd->{id}\E/} } stored_objects()), 0, 'the object is gone from the store');
($st) = call(GET => "$base/$bd->{id}/download", auth());
is($st, 404, 'its download answers 404');

# --- the store unreachable --------------------------------------------------------
my $dsn = `@{[src_dir()]}/tools/lab-postgres admin-dsn $dir/postgres @{[$stack->port('pg')]}`;
chomp $dsn;
$dsn =~ s/dbname=\S+/dbname=lectern_documents/;
sub counts {
	my $c = `psql "$dsn" -XAtq -c "SELECT (SELECT count(*) FROM documents) || ' ' || (SELECT count(*) FROM jobs) || ' ' || (SELECT count(*) FROM outbox)" 2>&1`;
	chomp $c;
	return $c;
}
my $before = counts();
like($before, qr/^\d+ \d+ \d+$/, 'documents, jobs and outbox rows counted') or diag($before);
my @before_objects = stored_objects();
my (undef, $lh) = call(GET => "$base?limit=1", auth());
my $total = $lh->{'x-total-count'};

# nothing_written(WHAT): the upload left no row, job, event or object.
sub nothing_written {
	my ($what) = @_;
	is(counts(), $before, "$what: no document row, job or event was written");
	my (undef, $h2) = call(GET => "$base?limit=1", auth());
	is($h2->{'x-total-count'}, $total, "$what: the list has no new document");
	is_deeply([stored_objects()], \@before_objects, "$what: no new object in s3rver's data");
}

my $peer_pid = ($stack->slurp("$dir/run/s3-peer.pid") // '') =~ /(\d+)/ ? $1 : 0;
ok($peer_pid && kill('KILL', $peer_pid), 'the S3 endpoint is killed');
# It is not our child: gone once it is no longer there or a zombie.
sub gone {
	my ($pid) = @_;
	return 1 unless kill(0, $pid);
	open(my $fh, '<', "/proc/$pid/stat") or return 1;
	return (<$fh> // '') =~ /\) Z /;
}
for (1 .. 100) { last if gone($peer_pid); select(undef, undef, undef, 0.05) }
my ($body_raw, $err);
($st, $h, $err, $body_raw) = upload('unreachable.txt', "Words that never reach the store.\n", 0);
is($st, 503, 'an upload with the store unreachable answers 503');
like($h->{'content-type'} // '', qr{^application/json}, 'as JSON');
is($err->{error}, 'unavailable', '{"error":"unavailable"}') or diag($body_raw);
nothing_written('unreachable');
($st, undef, $health) = call(GET => "$base/health");
is($health->{checks}{storage}{status}, 'down', 'health names the store as down');

# --- a wrong secret ---------------------------------------------------------------
# A signature check on the same address that expects another secret: the
# service's configured secret is now the wrong one.
my $s3rver_port = ($stack->slurp("$dir/run/s3rver.port") // '') =~ /(\d+)/ ? $1 : 0;
# check_again(SECRET, NAME) -> pid: a signature check that knows SECRET on
# the lab's endpoint port.
sub check_again {
	my ($secret, $name) = @_;
	my ($pid, $port) = start_peer("$files/$name", 'aws-peer.py', '--mode', 's3',
		'--upstream', "http://127.0.0.1:$s3rver_port", '--port', $peer_port,
		'--access-key', env_value($env, 'AWS_ACCESS_KEY_ID'), '--secret', $secret,
		'--token', env_value($env, 'AWS_SESSION_TOKEN'));
	is($port, $peer_port, "$name: a signature check listens again on the same port");
	return $pid;
}

my $check = check_again('not-the-secret-' . env_value($env, 'AWS_SECRET_ACCESS_KEY'), 'wrong-secret');
($st, $h, $err, $body_raw) = upload('wrong-secret.txt', "Words signed with the wrong secret.\n", 0);
is($st, 503, 'an upload signed with a wrong secret answers 503, not 403 or 500');
is($err->{error}, 'unavailable', 'with a JSON error') or diag($body_raw);
unlike($body_raw // '', qr/SignatureDoesNotMatch|secret/i, 'which does not pass on the store\'s answer');
like($stack->slurp("$dir/log/documents.log") // '', qr/HTTP 403 SignatureDoesNotMatch/,
	'the service logs the store\'s refusal');
nothing_written('wrong secret');
stop_peer($check);

# The right secret again: the service recovers by itself.
$check = check_again(env_value($env, 'AWS_SECRET_ACCESS_KEY'), 'right-secret');
($st, $h, my $ok) = upload('again.txt', "The store is back.\n", 0);
is($st, 201, 'with the store back, uploads work again');
($st, $h) = call(GET => "$base/$ok->{id}/download", auth());
is($http->get($h->{location} // '')->{content}, "The store is back.\n", 'and download');
stop_peer($check);

done_testing();
