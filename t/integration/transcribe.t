#!/usr/bin/perl
# The stt worker's Amazon Transcribe engine against t/transcribe-peer.py,
# which recomputes every SigV4 signature with botocore, keeps the bucket the
# audio and the transcripts go through, and answers Transcribe's documented
# batch calls (StartTranscriptionJob, GetTranscriptionJob polled,
# DeleteTranscriptionJob) with its transcript JSON and speaker labels.
# Skipped without /usr/bin/python3 and python3-botocore.
use strict;
use warnings;
use File::Temp qw(tempdir);
use POSIX qw(:sys_wait_h);
use Test::More;

my $src = $ENV{LECTERN_SRCDIR} or plan skip_all => 'LECTERN_SRCDIR is not set';
my $build = $ENV{LECTERN_BUILDDIR} or plan skip_all => 'LECTERN_BUILDDIR is not set';
my $python = '/usr/bin/python3';
plan skip_all => 'python3-botocore is not installed'
	unless -x $python && system($python, '-c', 'import botocore') == 0;

my $dir = tempdir('lectern-transcribe-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my ($key, $secret, $token) = ('AKIDLECTERNTRANSCRIBE', 'transcribe-test-secret/+y', 'transcribe-token');

my $peer = fork() // die "fork: $!";
if ($peer == 0) {
	open(STDOUT, '>', "$dir/peer.log") or die "peer.log: $!";
	open(STDERR, '>&', \*STDOUT) or die "stderr: $!";
	exec($python, "$src/t/transcribe-peer.py", '--port-file', "$dir/peer.port",
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
BAIL_OUT("the Transcribe peer did not start; see $dir/peer.log") unless $port;

local @ENV{qw(AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_REGION
	LECTERN_TEST_AWS_ENDPOINT TMPDIR)} =
	($key, $secret, $token, 'us-east-1', "http://127.0.0.1:$port", $dir);
my $out = `$build/t/unit/stt_amazon 2>&1`;
my $rc = $? >> 8;
note($_) for split /\n/, $out;
my @bad = grep { /^not ok/ } split /\n/, $out;
my ($plan) = $out =~ /^1\.\.(\d+)/m;
ok($rc == 0 && !@bad && $plan, 'Transcribe engine through the signature check: '
	. ($plan // 0) . ' checks') or diag(join("\n", @bad));

done_testing();
