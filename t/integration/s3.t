#!/usr/bin/perl
# S3 and AWS JSON against real protocol peers: s3rver (npm) behind
# t/aws-peer.py, which recomputes every SigV4 signature with botocore, and the
# same peer in JSON mode. Runs the store interface cases (t/unit/store) and
# the AWS helper cases (t/unit/aws) against them.
#
# s3rver is found in $LECTERN_S3RVER, t/node_modules/.bin (npm ci --prefix t),
# or PATH; without it (or without /usr/bin/python3 and python3-botocore) the
# test is skipped.
use strict;
use warnings;
use File::Temp qw(tempdir);
use HTTP::Tiny;
use POSIX qw(:sys_wait_h);
use Test::More;

use Lectern::Test qw(prerequisite python_has start_peer run_tap);

my $src = $ENV{LECTERN_SRCDIR};
my $build = $ENV{LECTERN_BUILDDIR};
prerequisite($src && $build, 'LECTERN_SRCDIR and LECTERN_BUILDDIR are not set (make check sets them)');

my ($s3rver) = grep { defined && -x } ($ENV{LECTERN_S3RVER}, "$src/t/node_modules/.bin/s3rver",
	map { "$_/s3rver" } split /:/, $ENV{PATH} // '');
prerequisite($s3rver, 's3rver not found (npm ci --prefix t, or set LECTERN_S3RVER)');
prerequisite(python_has('botocore'), 'python3-botocore is not installed');

my $dir = tempdir('lectern-s3-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my @children;

sub start {
	my ($log, @cmd) = @_;
	my $pid = fork() // die "fork: $!";
	if ($pid == 0) {
		open(STDOUT, '>', $log) or die "$log: $!";
		open(STDERR, '>&', \*STDOUT) or die "stderr: $!";
		exec(@cmd) or die "exec $cmd[0]: $!";
	}
	push @children, $pid;
	return $pid;
}

sub stop_all {
	kill 'TERM', @children;
	for my $pid (@children) {
		for (1 .. 50) {
			last if waitpid($pid, WNOHANG) != 0;
			select(undef, undef, undef, 0.1);
		}
		kill 'KILL', $pid;
		waitpid($pid, 0);
	}
	@children = ();
}
END { local $?; stop_all() }
$SIG{INT} = $SIG{TERM} = sub { stop_all(); exit 1 };

# Waits for a pattern in a file; returns the first capture.
sub wait_for {
	my ($file, $re, $what) = @_;
	for (1 .. 100) {
		if (open(my $fh, '<', $file)) {
			local $/;
			my $text = <$fh>;
			return $1 if defined $text && $text =~ $re;
		}
		select(undef, undef, undef, 0.1);
	}
	BAIL_OUT("$what did not start; see $file");
}

my ($key, $secret, $token) = ('AKIDLECTERNTEST', 'lectern-test-secret/+x', 'lectern-session-token');
mkdir "$dir/s3";
start("$dir/s3rver.log", $s3rver, '-d', "$dir/s3", '-a', '127.0.0.1', '-p', '0',
	'--configure-bucket', 'lectern');
my $s3port = wait_for("$dir/s3rver.log", qr/listening on 127\.0\.0\.1:(\d+)/, 's3rver');
my @keys = ('--access-key', $key, '--secret', $secret, '--token', $token);
my (undef, $s3_peer) = start_peer("$dir/peer-s3", 'aws-peer.py', '--mode', 's3',
	'--upstream', "http://127.0.0.1:$s3port", @keys);
my (undef, $json_peer) = start_peer("$dir/peer-json", 'aws-peer.py', '--mode', 'json', '--throttle', '2', @keys);
my ($s3, $json) = ("http://127.0.0.1:$s3_peer", "http://127.0.0.1:$json_peer");

# The peer itself refuses what is not signed right.
my $http = HTTP::Tiny->new(timeout => 10);
my $r = $http->get("$s3/lectern/x");
is($r->{status}, 403, 'the S3 peer refuses an unsigned request');
like($r->{content}, qr/<Code>AccessDenied<\/Code>/, 'with an S3 error');
$r = $http->get("$s3/lectern/x", { headers => { Authorization =>
	"AWS4-HMAC-SHA256 Credential=$key/20240101/us-east-1/s3/aws4_request, "
	. 'SignedHeaders=host;x-amz-date, Signature=00', 'X-Amz-Date' => '20240101T000000Z' } });
is($r->{status}, 403, 'and a stale or forged signature');
$r = $http->post("$json/", { content => '{}', headers => {
	'Content-Type' => 'application/x-amz-json-1.1', 'X-Amz-Target' => 'Textract.DetectDocumentText' } });
is($r->{status}, 403, 'the JSON peer refuses an unsigned request');

my %aws = (AWS_ACCESS_KEY_ID => $key, AWS_SECRET_ACCESS_KEY => $secret,
	AWS_SESSION_TOKEN => $token, AWS_REGION => 'us-east-1', TMPDIR => $dir);
run_tap('store interface and S3 cases through the signature check', "$build/t/unit/store",
	%aws, LECTERN_TEST_S3_ENDPOINT => $s3, LECTERN_S3_BUCKET => 'lectern',
	LECTERN_TEST_PEER_URL => $s3);
run_tap('AWS JSON helper against the signature-checking peer', "$build/t/unit/aws",
	%aws, LECTERN_TEST_AWS_ENDPOINT => $json);

# Nothing half-written: no multipart upload of the failed key reached s3rver's objects.
my @left = grep { /peer-fail-part2|dead|wrong/ } split /\n/, `find $dir/s3 -type f`;
is(scalar @left, 0, 'no object of a failed upload is in the store');

done_testing();
