# A job that fails for good leaves nothing "processing" for ever (issue:
# reliability). The workers' work directory does not exist here, so every
# attempt to process a document or transcribe audio fails with an internal
# error and is retried (after 5 s, then 10 s); after the last attempt the
# document and the transcription read "failed" with a sentence, and
# document.processed and audio.transcription.completed say so, through the
# job kinds' failure hooks (lib/events/worker.h; t/integration/events.t
# covers a worker lost during the last attempt).
use strict;
use warnings;

use File::Temp qw(tempdir);
use Test::More;

use Lectern::Test qw(start_stack wait_until);

for my $tool (qw(flite kcat)) {
	BAIL_OUT("$tool is not installed (tools/packages.txt)") if system("command -v $tool >/dev/null 2>&1") != 0;
}
my $dir = tempdir('lectern-jobs-failed-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $stack = start_stack(env => { LAB_RATE_LIMIT => 100000, LECTERN_WORK_DIR => "$dir/missing" });
my ($token) = $stack->user('unlucky@example.org');
my $auth = { Authorization => "Bearer $token" };

# poll(PATH) -> the resource once its status is final (at most 90 s).
sub poll {
	my ($path) = @_;
	my $r;
	wait_until(sub {
		(undef, undef, $r) = $stack->request(GET => $path, $auth);
		return ($r->{status} // '') =~ /^(processed|completed|failed)$/;
	}, 90);
	return $r // {};
}

my ($st, $doc) = $stack->upload($token, 'notes.txt', "Rivers carry water to the sea. " x 20, 'text/plain',
	{ path => '/api/v1/documents/upload?wait=0' });
like($st, qr/^20[12]$/, 'a document is accepted');
system('flite', '-voice', 'slt', '-t', 'rivers carry water to the sea', '-o', "$dir/said.wav") == 0
	or BAIL_OUT('flite could not speak');
open(my $fh, '<:raw', "$dir/said.wav") or die $!;
my $wav = do { local $/; <$fh> };
close($fh);
my ($tst, $task) = $stack->upload($token, 'said.wav', $wav, 'audio/wav',
	{ path => '/api/v1/stt/transcribe', part => 'audio', fields => { wait => 0 } });
is($tst, 202, 'a recording is accepted');

my $d = poll("/api/v1/documents/$doc->{id}");
is($d->{status}, 'failed', 'the document fails after its last attempt instead of processing for ever');
like($d->{error} // '', qr/could not be processed/, 'with a sentence') or diag explain $d;
my @pr = $stack->wait_events('document.processed', sub { ($_[0]{payload}{document_id} // '') eq $doc->{id} });
is(scalar @pr, 1, 'document.processed once');
is($pr[0]{payload}{status}, 'failed', 'saying failed');

my $t = poll("/api/v1/stt/status/$task->{task_id}");
is($t->{status}, 'failed', 'the transcription fails after its last attempt');
like($t->{error} // '', qr/could not be transcribed/, 'with a sentence') or diag explain $t;
my @tc = $stack->wait_events('audio.transcription.completed',
	sub { ($_[0]{payload}{task_id} // '') eq $task->{task_id} });
is(scalar @tc, 1, 'audio.transcription.completed once');
is($tc[0]{payload}{status}, 'failed', 'saying failed');

done_testing();
