#!/usr/bin/perl
# The Textract engine against t/textract-peer.py, which recomputes every
# SigV4 signature with botocore and answers Textract's documented JSON
# (synchronous DetectDocumentText, asynchronous text detection jobs).
# Skipped without /usr/bin/python3 and python3-botocore.
use strict;
use warnings;
use File::Temp qw(tempdir);
use POSIX qw(:sys_wait_h);
use Test::More;

use Lectern::Test qw(prerequisite);

my $src = $ENV{LECTERN_SRCDIR};
my $build = $ENV{LECTERN_BUILDDIR};
prerequisite($src && $build, 'LECTERN_SRCDIR and LECTERN_BUILDDIR are not set (make check sets them)');
my $python = '/usr/bin/python3';
prerequisite(-x $python && system($python, '-c', 'import botocore') == 0,
	'python3-botocore is not installed');

my $dir = tempdir('lectern-textract-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my ($key, $secret, $token) = ('AKIDLECTERNTEXTRACT', 'textract-test-secret/+y', 'textract-token');

my $peer = fork() // die "fork: $!";
if ($peer == 0) {
	open(STDOUT, '>', "$dir/peer.log") or die "peer.log: $!";
	open(STDERR, '>&', \*STDOUT) or die "stderr: $!";
	exec($python, "$src/t/textract-peer.py", '--port-file', "$dir/peer.port",
		'--access-key', $key, '--secret', $secret, '--token', $token) or die "exec: $!";
}
sub stop_peer {
	return unless $peer;
	kill 'TERM', $peer;
	for (1 .. 50) {
		last if waitpid($peer, WNOHANG) != 0;
		select(undef, undef, undef, 0.1);
	}
	kill 'KILL', $peer;
	waitpid($peer, 0);
	$peer = 0;
}
END { local $?; stop_peer() }
$SIG{INT} = $SIG{TERM} = sub { stop_peer(); exit 1 };

my $port;
for (1 .. 100) {
	if (open(my $fh, '<', "$dir/peer.port")) {
		($port) = <$fh> =~ /^(\d+)/;
		last if $port;
	}
	select(undef, undef, undef, 0.1);
}
BAIL_OUT("the Textract peer did not start; see $dir/peer.log") unless $port;

local @ENV{qw(AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_REGION
	LECTERN_TEST_AWS_ENDPOINT TMPDIR)} =
	($key, $secret, $token, 'us-east-1', "http://127.0.0.1:$port", $dir);
my $out = `$build/t/unit/extract_textract 2>&1`;
my $rc = $? >> 8;
note($_) for split /\n/, $out;
my @bad = grep { /^not ok/ } split /\n/, $out;
my ($plan) = $out =~ /^1\.\.(\d+)/m;
ok($rc == 0 && !@bad && $plan, 'Textract engine through the signature check: '
	. ($plan // 0) . ' checks') or diag(join("\n", @bad));

done_testing();
