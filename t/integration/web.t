# The web app in a real browser: starts a lab, then t/web/flows.mjs drives
# Debian's Chromium through playwright-core (npm ci --prefix t) over every
# flow as a new user and prints TAP, which this script passes on. Screenshots
# of every page land in <build>/t/web-screenshots. Nothing here skips: a
# missing browser or module is a failure.
use strict;
use warnings;

use File::Temp qw(tempdir);
use Lectern::Test qw(start_stack src_dir build_dir);

$| = 1;
my $src = src_dir();
my $chromium = $ENV{LECTERN_CHROMIUM} // '/usr/bin/chromium';
my $module = "$src/t/node_modules/playwright-core/package.json";

sub fail_all {
	my ($why) = @_;
	print "1..1\nnot ok 1 - $why\n";
	exit 1;
}
fail_all("$chromium is missing (apt-get install chromium)") unless -x $chromium;
fail_all('playwright-core is missing (npm ci --prefix t)') unless -f $module;
system('command -v node >/dev/null && command -v flite >/dev/null') == 0
	or fail_all('node or flite is missing');

my $tmp = tempdir('lectern-web-XXXXXX', TMPDIR => 1, CLEANUP => 1);
# The spoken question the fake microphone plays (and the uploaded audio).
system('flite', '-voice', 'slt', '-t', 'what is photosynthesis', '-o', "$tmp/question.wav") == 0
	or fail_all('flite could not make the spoken question');

# A generous rate limit: one browser makes many calls in a minute.
my $stack = eval { start_stack(env => { LAB_RATE_LIMIT => 100000 }) };
fail_all("the lab did not start: $@") unless $stack;

local $ENV{WEB_URL}    = $stack->http_url;
local $ENV{LAB_DIR}    = $stack->dir;
local $ENV{SHOTS}      = build_dir() . '/t/web-screenshots';
local $ENV{SPEECH_WAV} = "$tmp/question.wav";
local $ENV{COURSE_MD}  = "$src/t/quiz/course.md";
local $ENV{CHROMIUM}   = $chromium;
open(my $tap, '-|', 'node', "$src/t/web/flows.mjs") or fail_all("node: $!");
while (my $line = <$tap>) {
	print $line;
}
close($tap);
my $rc = $? >> 8;
$stack->stop;
exit($rc ? 1 : 0);
