package Lectern::Test;

# A private Lectern stack for integration tests: free ports, a temporary
# lab directory, `tools/lab up` with the programs already built, and
# `tools/lab down` plus removal of the directory when the test ends, also
# when it dies. Core Perl modules only.
#
#   use Lectern::Test qw(start_stack);
#   my $stack = start_stack();
#   my ($status, $headers, $json, $body) =
#       $stack->request(GET => '/health', { 'X-Request-ID' => 'abc12345' });
#   my ($status, $headers) = $stack->request(GET => '/health', {}, undef, { https => 1 });

use strict;
use warnings;

use Cwd qw(abs_path);
use Fcntl qw(:flock);
use Exporter qw(import);
use File::Basename qw(dirname);
use File::Path qw(remove_tree);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(WNOHANG);
use Test::More;

our @EXPORT_OK = qw(start_stack free_ports src_dir build_dir prerequisite skip_unless wait_until
	start_llm_peer start_peer stop_peer python_has run_tap multipart_body text_pdf slurp_file);

my %live;     # lab dir -> stack, so END can stop what DESTROY did not
my %peers;    # pid -> the process that started it (see start_peer)

# In CI (CI=true) everything the tests need is installed by the project itself
# (tools/packages.txt, npm ci in t/, the build): a test that would be skipped
# for want of it fails instead, so CI never stays green on skips.
sub in_ci { return ($ENV{CI} // '') eq 'true' }

# prerequisite(COND, WHY): before the plan; skips the whole test unless COND
# (with CI=true: one failed check instead).
sub prerequisite {
	my ($cond, $why) = @_;
	return 1 if $cond;
	if (in_ci()) {
		plan tests => 1;
		fail("skipped with CI=true: $why");
		exit 1;
	}
	plan skip_all => $why;
}

# skip_unless(COND, WHY, N): inside a SKIP block, skips its N checks unless
# COND (with CI=true a failed check comes first).
sub skip_unless {
	my ($cond, $why, $n) = @_;
	return 1 if $cond;
	fail("skipped with CI=true: $why") if in_ci();
	no warnings 'exiting';
	skip($why, $n);
}

sub src_dir {
	return $ENV{LECTERN_SRCDIR} // abs_path(dirname(__FILE__) . '/../../..');
}

sub build_dir {
	return $ENV{LECTERN_BUILDDIR} // src_dir();
}

# free_ports(N): N distinct TCP ports that are free on this machine now.
sub free_ports {
	my ($n) = @_;
	my @socks;
	for (1 .. $n) {
		my $s = IO::Socket::INET->new(
			Listen    => 1,
			LocalAddr => '127.0.0.1',
			LocalPort => 0,
			Proto     => 'tcp',
			ReuseAddr => 0,
		) or die "no free port: $!";
		push @socks, $s;
	}
	my @ports = map { $_->sockport } @socks;
	close $_ for @socks;
	return @ports;
}

# start_stack(%opts): starts the stack and returns it. Options:
#   env => { NAME => value }   extra environment for tools/lab and the pools
#                              (e.g. LAB_RATE_LIMIT => 1000)
#   s3 => 1                    the documents' store in s3rver behind the
#                              signature check (LAB_STORE=s3, `up --s3`)
sub start_stack {
	my (%opts) = @_;
	my $src  = src_dir();
	my $dir  = tempdir('lectern-lab-XXXXXX', TMPDIR => 1, CLEANUP => 0);
	# nginx's workers (nobody) and Postgres (postgres) must traverse it.
	chmod 0755, $dir;
	my ($http, $https, $pg, $redis) = free_ports(4);
	my %env = (
		LAB_DIR          => $dir,
		LAB_HTTP_PORT    => $http,
		LAB_HTTPS_PORT   => $https,
		LAB_PG_PORT      => $pg,
		LAB_REDIS_PORT   => $redis,
		LAB_SKIP_INSTALL => 1,
		LAB_SKIP_BUILD   => 1,
		LAB_BIN_DIR      => build_dir(),
		LAB_PG_FAST      => 1,
		LAB_WORKERS      => 2,
		($opts{s3} ? (LAB_STORE => 's3') : ()),
		%{ $opts{env} // {} },
	);
	my $self = bless {
		dir    => $dir,
		src    => $src,
		env    => \%env,
		owner  => $$,
		http   => "http://127.0.0.1:$http",
		https  => "https://127.0.0.1:$https",
		ports  => { http => $http, https => $https, pg => $pg, redis => $redis },
		# Longer than any `wait` a test asks for (at most 60 s), so a slow
		# machine answers 202 rather than leaving the client to time out.
		client => HTTP::Tiny->new(timeout => 75, max_redirect => 0, keep_alive => 0),
	}, __PACKAGE__;
	$live{$dir} = $self;
	# A copy of a ready cluster saves initdb, the slowest step of `up`.
	if (my $tmpl = pg_template()) {
		mkdir "$dir/postgres";
		system('cp', '-a', "$tmpl/data", "$dir/postgres/data") == 0
			or remove_tree("$dir/postgres/data");
	}
	my $rc = $self->lab('up');
	if ($rc != 0) {
		my $log = $self->slurp("$dir/up.log") // '';
		diag("tools/lab up failed ($rc):\n$log");
		die "the lab stack did not start\n";
	}
	my $demo = $self->slurp("$dir/etc/demo.txt") // '';
	($self->{demo_email})    = $demo =~ /^email: (\S+)$/m;
	($self->{demo_password}) = $demo =~ /^password: (\S+)$/m;
	return $self;
}

# pg_template(): a cleanly stopped cluster in the build tree, made once for
# the whole test run by tools/lab-postgres (under a lock, as tests run in
# parallel); undef when it cannot be made, and every stack then runs initdb.
# LECTERN_PG_TEMPLATE=0 turns it off. `make clean` removes it.
sub pg_template {
	return undef if defined $ENV{LECTERN_PG_TEMPLATE} && !$ENV{LECTERN_PG_TEMPLATE};
	my $base = build_dir() . '/t';
	my $tmpl = "$base/pg-template";
	return $tmpl if -f "$tmpl/data/PG_VERSION";
	mkdir $base;
	open(my $lock, '>', "$tmpl.lock") or return undef;
	flock($lock, LOCK_EX) or return undef;
	return $tmpl if -f "$tmpl/data/PG_VERSION";
	my $work = "$tmpl.tmp$$";
	remove_tree($work);
	mkdir $work or return undef;
	chmod 0755, $work;
	my ($port) = free_ports(1);
	my $tool = src_dir() . '/tools/lab-postgres';
	local $ENV{LAB_PG_FAST} = 1;
	my $ok = system("$tool start $work $port >$work.log 2>&1") == 0
		&& system("$tool stop $work >>$work.log 2>&1") == 0
		&& -f "$work/data/PG_VERSION"
		&& rename($work, $tmpl);
	unlink "$work.log" if $ok;
	remove_tree($work) unless $ok;
	return $ok ? $tmpl : undef;
}

# lab(COMMAND): runs tools/lab COMMAND for this stack; output to up.log.
sub lab {
	my ($self, @args) = @_;
	my $pid = fork() // die "fork: $!";
	if ($pid == 0) {
		$ENV{$_} = $self->{env}{$_} for keys %{ $self->{env} };
		open(STDOUT, '>>', "$self->{dir}/up.log") or die "open: $!";
		open(STDERR, '>&', \*STDOUT) or die "dup: $!";
		open(STDIN, '<', '/dev/null');
		exec("$self->{src}/tools/lab", @args) or die "exec tools/lab: $!";
	}
	waitpid($pid, 0);
	return $? >> 8;
}

sub slurp { return slurp_file($_[1]) }

# slurp_file(PATH) -> its bytes, or undef when it cannot be read.
sub slurp_file {
	my ($file) = @_;
	open(my $fh, '<:raw', $file) or return undef;
	local $/;
	return scalar <$fh>;
}

sub dir            { $_[0]{dir} }
sub http_url       { $_[0]{http} }
sub https_url      { $_[0]{https} }
sub port           { $_[0]{ports}{ $_[1] } }
sub demo_email     { $_[0]{demo_email} }
sub demo_password  { $_[0]{demo_password} }

# request(METHOD, PATH, {HEADERS}, BODY, {https => 1}): BODY may be a string
# or a reference (sent as JSON). Returns (status, {lowercased headers}, the
# decoded JSON body or undef, the raw body). HTTPS goes through curl (core
# Perl has no TLS); a header seen twice comes back as an array reference.
sub request {
	my ($self, $method, $path, $headers, $body, $o) = @_;
	my %h = %{ $headers // {} };
	if (ref $body) {
		$body = JSON::PP->new->canonical->encode($body);
		$h{'Content-Type'} //= 'application/json';
	}
	my ($status, $rh, $content);
	if ($o && $o->{https}) {
		($status, $rh, $content) = $self->curl($method, "$self->{https}$path", \%h, $body, $o->{curl_args});
	} else {
		my $res = $self->{client}->request($method, "$self->{http}$path",
			{ headers => \%h, defined $body ? (content => $body) : () });
		($status, $rh, $content) = ($res->{status}, $res->{headers}, $res->{content});
	}
	my $json;
	if (defined $content && length $content) {
		$json = eval { JSON::PP->new->allow_nonref->decode($content) };
	}
	return ($status, $rh, $json, $content);
}

# curl(METHOD, URL, {HEADERS}, BODY, [extra args]) -> (status, {headers}, body)
sub curl {
	my ($self, $method, $url, $headers, $body, $extra) = @_;
	my $out = "$self->{dir}/curl.out";
	my @cmd = ('curl', '-s', '-k', '-D', "$out.h", '-o', "$out.b", '-X', $method, '--max-time', '75', @{ $extra // [] });
	push @cmd, '-H', "$_: $headers->{$_}" for sort keys %$headers;
	if (defined $body) {
		open(my $fh, '>', "$out.in") or die "open: $!";
		print $fh $body;
		close $fh;
		push @cmd, '--data-binary', "\@$out.in";
	}
	push @cmd, $url;
	system(@cmd);
	return (599, {}, '') if $? != 0;
	my $head = $self->slurp("$out.h") // '';
	my $content = $self->slurp("$out.b") // '';
	# Only the last response's header block counts (after any 100 Continue).
	my @blocks = grep { /\S/ } split /\r?\n\r?\n/, $head;
	my @lines = split /\r?\n/, ($blocks[-1] // '');
	my ($status) = (shift(@lines) // '') =~ m{^HTTP/\S+\s+(\d+)};
	my %rh;
	for (@lines) {
		my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
		$k = lc $k;
		if (exists $rh{$k}) {
			$rh{$k} = [ ref $rh{$k} ? @{ $rh{$k} } : $rh{$k}, $v ];
		} else {
			$rh{$k} = $v;
		}
	}
	return ($status // 599, \%rh, $content);
}

# register(EMAIL, PASSWORD, NAME) -> (status, json) through nginx.
sub register {
	my ($self, $email, $password, $name) = @_;
	my ($status, undef, $json) = $self->request(POST => '/api/v1/auth/register', {},
		{ email => $email, password => $password, name => $name // 'Test User' });
	return ($status, $json);
}

# login(EMAIL, PASSWORD) -> (status, json) through nginx.
sub login {
	my ($self, $email, $password) = @_;
	my ($status, undef, $json) = $self->request(POST => '/api/v1/auth/login', {},
		{ email => $email, password => $password });
	return ($status, $json);
}

# user(EMAIL) -> (token, user id): a new user, registered with one check.
sub user {
	my ($self, $email) = @_;
	my ($status, $json) = $self->register($email, 'correct horse battery');
	is($status, 201, "registered $email");
	return ($json->{token}, $json->{user}{id});
}

# events(TOPIC) -> every event on TOPIC (decoded envelopes), read with kcat
# from the lab's broker.
sub events {
	my ($self, $topic) = @_;
	my $bs = $self->slurp("$self->{dir}/run/kafka.bootstrap") // '';
	chomp $bs;
	my @ev;
	for my $line (split /\n/, `kcat -b $bs -C -t $topic -o beginning -e -q -J 2>/dev/null`) {
		my $m = eval { JSON::PP->new->decode($line) } or next;
		my $ev = eval { JSON::PP->new->decode($m->{payload}) } or next;
		push @ev, $ev;
	}
	return @ev;
}

# wait_events(TOPIC, WANT) -> the events on TOPIC for which WANT is true,
# read again until there is one (at most 60 s; the list may be empty).
sub wait_events {
	my ($self, $topic, $want) = @_;
	my @ev;
	wait_until(sub { @ev = grep { $want->($_) } $self->events($topic) }, 60);
	return @ev;
}

# reload_nginx(): nginx -s reload, returning once the old workers have
# exited. A reload is asynchronous: until the old workers get their QUIT they
# still accept connections and answer with the old configuration.
sub reload_nginx {
	my ($self) = @_;
	my $conf = "$self->{dir}/nginx";
	my $master = $self->slurp("$conf/nginx.pid") // return 0;
	chomp $master;
	my $children = sub {
		my @pids;
		for my $stat (glob '/proc/[0-9]*/stat') {
			my $line = $self->slurp($stat) // next;
			push @pids, $1 if $line =~ /^(\d+) \(.*\) \S (\d+) / && $2 == $master;
		}
		return @pids;
	};
	my %old = map { $_ => 1 } $children->();
	return 0 if system('nginx', '-p', $conf, '-c', "$conf/nginx.conf", '-s', 'reload') != 0;
	return wait_until(sub { !grep { $old{$_} } $children->() }, 10) ? 1 : 0;
}

sub stop {
	my ($self) = @_;
	return if $self->{stopped} || $self->{owner} != $$;
	$self->{stopped} = 1;
	delete $live{ $self->{dir} };
	my $rc = $self->lab('down');
	diag("tools/lab down failed:\n" . ($self->slurp("$self->{dir}/up.log") // '')) if $rc != 0;
	if ($ENV{LECTERN_KEEP_LAB}) {
		diag("lab directory kept: $self->{dir}");
	} else {
		remove_tree($self->{dir});
	}
}

# upload(TOKEN, FILENAME, BYTES, TYPE, {OPTIONS}) -> (status, json, headers,
# raw body): a file as multipart/form-data (TYPE: application/octet-stream),
# by default a document through POST /api/v1/documents/upload?wait=25, which
# waits up to 25 s for its processing. OPTIONS:
#   path => PATH                 another endpoint (e.g. /api/v1/stt/transcribe)
#   part => NAME                 the file's part (file)
#   fields => { NAME => VALUE }  more parts after the file, by name
sub upload {
	my ($self, $token, $filename, $data, $type, $o) = @_;
	my $fields = $o->{fields} // {};
	my ($body, $ct) = multipart_body([ $o->{part} // 'file', $filename, $data, $type ],
		map { [ $_, undef, $fields->{$_} ] } sort keys %$fields);
	my ($status, $headers, $json, $raw) =
		$self->request(POST => $o->{path} // '/api/v1/documents/upload?wait=25',
		{ Authorization => "Bearer $token", 'Content-Type' => $ct }, $body);
	return ($status, $json, $headers, $raw);
}

# multipart_body([NAME, FILENAME or undef, BYTES, TYPE], ...) -> (body,
# Content-Type): a multipart/form-data body of these parts. A file part's
# TYPE is application/octet-stream unless given; a field has none.
sub multipart_body {
	my @parts = @_;
	my $b = 'LecternTestBoundary' . join('', map { ('a' .. 'z')[ int rand 26 ] } 1 .. 16);
	my $body = '';
	for my $p (@parts) {
		my ($name, $filename, $data, $type) = @$p;
		$type //= 'application/octet-stream' if defined $filename;
		$body .= "--$b\r\nContent-Disposition: form-data; name=\"$name\""
			. (defined $filename ? "; filename=\"$filename\"" : '') . "\r\n"
			. (defined $type ? "Content-Type: $type\r\n" : '') . "\r\n$data\r\n";
	}
	return ("$body--$b--\r\n", "multipart/form-data; boundary=$b");
}

# text_pdf([LINE, ...], ...) -> bytes: a PDF with one page per array of
# lines, set in Helvetica (the first line of a page larger, as a heading),
# with a correct cross-reference table, so poppler reads it as any PDF.
sub text_pdf {
	my @pages = @_;
	my @objs = ('<< /Type /Catalog /Pages 2 0 R >>', undef,
		'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>');
	my @kids;
	for my $lines (@pages) {
		my ($y, $first, $stream) = (780, 1, "BT\n");
		for my $line (@$lines) {
			(my $t = $line) =~ s/([\\()])/\\$1/g;
			$stream .= sprintf("/F1 %d Tf 1 0 0 1 72 %d Tm (%s) Tj\n", $first ? 18 : 11, $y, $t);
			$y -= $first ? 30 : 16;
			$first = 0;
		}
		$stream .= "ET\n";
		push @objs, sprintf("<< /Length %d >>\nstream\n%sendstream", length $stream, $stream);
		my $content = @objs;
		push @objs, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
			. "/Resources << /Font << /F1 3 0 R >> >> /Contents $content 0 R >>";
		push @kids, scalar(@objs) . ' 0 R';
	}
	$objs[1] = sprintf('<< /Type /Pages /Kids [%s] /Count %d >>', join(' ', @kids), scalar @kids);
	my $pdf = "%PDF-1.4\n";
	my @offsets;
	for my $i (0 .. $#objs) {
		push @offsets, length $pdf;
		$pdf .= sprintf("%d 0 obj\n%s\nendobj\n", $i + 1, $objs[$i]);
	}
	my $xref = length $pdf;
	$pdf .= sprintf("xref\n0 %d\n0000000000 65535 f \n", @objs + 1);
	$pdf .= sprintf("%010d 00000 n \n", $_) for @offsets;
	$pdf .= sprintf("trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", @objs + 1, $xref);
	return $pdf;
}

# wait_until(CODE, SECONDS): CODE's first true value within SECONDS (120),
# or undef.
sub wait_until {
	my ($cond, $secs) = @_;
	my $end = time + ($secs // 120);
	while (time < $end) {
		my $v = $cond->();
		return $v if $v;
		select(undef, undef, undef, 0.5);
	}
	return undef;
}

# start_peer(BASE, SCRIPT, ARGS...) -> (pid, port): t/SCRIPT, a python3 test
# peer that writes the port it listens on into its --port-file (BASE.port;
# its output goes to BASE.log), with ARGS. Returns once it listens, dies if
# it does not. The peer is stopped by stop_peer, or when the test ends.
sub start_peer {
	my ($base, $script, @args) = @_;
	unlink "$base.port";
	my $pid = fork() // die "fork: $!";
	if ($pid == 0) {
		# A failed exec must not run the test's END blocks (they stop stacks).
		open(STDOUT, '>>', "$base.log") or POSIX::_exit(127);
		open(STDERR, '>&', \*STDOUT) or POSIX::_exit(127);
		open(STDIN, '<', '/dev/null');
		exec('/usr/bin/python3', src_dir() . "/t/$script", '--port-file', "$base.port", @args)
			or print STDERR "exec /usr/bin/python3: $!\n";
		POSIX::_exit(127);
	}
	$peers{$pid} = $$;
	my $port = wait_until(sub { (slurp_file("$base.port") // '') =~ /^(\d+)\s/ ? $1 : undef }, 60);
	return ($pid, $port) if $port;
	stop_peer($pid);
	die "t/$script did not start:\n" . (slurp_file("$base.log") // '') . "\n";
}

# stop_peer(PID): TERM to a peer of start_peer, KILL after 5 s; reaped.
sub stop_peer {
	my ($pid) = @_;
	return unless delete $peers{$pid};
	# Only a child not yet reaped is signalled: a pid reaped elsewhere may
	# be another process's by now.
	return if waitpid($pid, WNOHANG) != 0;
	kill 'TERM', $pid;
	wait_until(sub { waitpid($pid, WNOHANG) != 0 }, 5) and return;
	kill 'KILL', $pid;
	waitpid($pid, 0);
}

# start_llm_peer(DIR, KEY) -> (pid, base URL): t/llm-peer.py, a
# chat-completions test server that takes the API key KEY, its log in DIR.
sub start_llm_peer {
	my ($dir, $key) = @_;
	my ($pid, $port) = start_peer("$dir/llm-peer", 'llm-peer.py', '--key', $key);
	return ($pid, "http://127.0.0.1:$port/v1");
}

# python_has(MODULE): /usr/bin/python3 can import MODULE (e.g. botocore).
sub python_has {
	my ($module) = @_;
	return -x '/usr/bin/python3' && system('/usr/bin/python3', '-c', "import $module") == 0;
}

# run_tap(NAME, PROGRAM, %ENV): runs a TAP program (a unit test) with this
# environment added; one check, passed when the program passed all of its
# own (its lines are notes).
sub run_tap {
	my ($name, $prog, %env) = @_;
	local @ENV{ keys %env } = values %env;
	my $out = `$prog 2>&1`;
	my $rc = $? >> 8;
	note($_) for split /\n/, $out;
	my @bad = grep { /^not ok/ } split /\n/, $out;
	my ($plan) = $out =~ /^1\.\.(\d+)/m;
	ok($rc == 0 && !@bad && $plan, "$name: " . ($plan // 0) . ' checks') or diag(join("\n", @bad));
}

sub DESTROY {
	my ($self) = @_;
	local ($?, $!, $@);
	$self->stop;
}

END {
	local $?;
	$_->stop for values %live;
	$peers{$_} == $$ and stop_peer($_) for keys %peers;
}

# A signal still runs END (and so stops the stacks).
$SIG{INT} = $SIG{TERM} = sub { exit 1 };

1;
