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
use Test::More;

use Lectern::Test qw(prerequisite python_has start_peer run_tap);

my $build = $ENV{LECTERN_BUILDDIR};
prerequisite($ENV{LECTERN_SRCDIR} && $build, 'LECTERN_SRCDIR and LECTERN_BUILDDIR are not set (make check sets them)');
prerequisite(python_has('botocore'), 'python3-botocore is not installed');

my $dir = tempdir('lectern-transcribe-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my ($key, $secret, $token) = ('AKIDLECTERNTRANSCRIBE', 'transcribe-test-secret/+y', 'transcribe-token');
my (undef, $port) = start_peer("$dir/peer", 'transcribe-peer.py', '--access-key', $key,
	'--secret', $secret, '--token', $token);
run_tap('Transcribe engine through the signature check', "$build/t/unit/stt_amazon",
	AWS_ACCESS_KEY_ID => $key, AWS_SECRET_ACCESS_KEY => $secret, AWS_SESSION_TOKEN => $token,
	AWS_REGION => 'us-east-1', LECTERN_TEST_AWS_ENDPOINT => "http://127.0.0.1:$port", TMPDIR => $dir);

done_testing();
