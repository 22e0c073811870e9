# What an operator sees (CONTRACT.md section 8): GET /ready gathers every
# service's health (503 when one is down); each pool's /health checks every
# dependency it uses, Kafka included; GET /api/v1/<service>/metrics answers
# Prometheus text to the host only, with counts that match a known amount
# of traffic spread over the pool's processes.
use strict;
use warnings;
use Test::More;
use IO::Socket::INET;
use POSIX ();
use Lectern::Test qw(start_stack build_dir);

# A limit the tests below reach, in a window they cannot outlast.
my $s = start_stack(env => { LAB_RATE_LIMIT => 30, LAB_RATE_WINDOW => 86400 });
my $dir = $s->dir;

# --- /ready and each service's health -------------------------------------
my ($st, $h, $ready) = $s->request(GET => '/ready');
is($st, 200, '/ready answers 200 with every service up');
is(ref $ready eq 'HASH' && $ready->{status}, 'ok', '/ready: status ok');
my @services = qw(auth documents quiz chat tts stt);
for my $svc (@services) {
	my $doc = $ready->{services}{$svc};
	is(ref $doc eq 'HASH' && $doc->{status}, 'ok', "/ready: $svc is ok");
	is(ref $doc eq 'HASH' && $doc->{service}, $svc, "/ready: ${svc}'s own health document");
	is($doc->{checks}{kafka}{status}, 'ok', "/ready: $svc checks Kafka");
}
ok(exists $ready->{services}{documents}{checks}{$_}, "documents' health checks $_")
	for qw(database storage kafka);
is(scalar keys %{ $ready->{services} }, scalar @services, '/ready: nothing else');
($st) = $s->request(GET => '/api/v1/documents/ready');
ok($st == 401 || $st == 404, "/ready under another service's prefix is not answered ($st)");

# --- metrics after a known amount of traffic -------------------------------
sub scrape {
	my ($svc) = @_;
	my ($code, $hd, undef, $body) = $s->request(GET => "/api/v1/$svc/metrics");
	return ($code, $hd, $body // '');
}
# The value of one sample (0 when absent).
sub sample {
	my ($text, $name, %labels) = @_;
	LINE: for my $line (split /\n/, $text) {
		next if $line =~ /^#/;
		my ($n, $l, $v) = $line =~ /^([a-z_]+)\{([^}]*)\} (\S+)$/ or next;
		next unless $n eq $name;
		my %have = $l =~ /(\w+)="((?:[^"\\]|\\.)*)"/g;
		for (keys %labels) { next LINE unless defined $have{$_} && $have{$_} eq $labels{$_} }
		return $v;
	}
	return 0;
}

my $email = 'ops-' . time() . "-$$\@example.com";
my $password = 'correct horse battery staple 42';
my ($rs) = $s->register($email, $password, 'Ops');
is($rs, 201, 'a user for the traffic');
my ($ls, $login) = $s->login($email, $password);
my $token = $login->{token} // '';
ok($token, 'logged in');

my ($code, $hd, $before) = scrape('auth');
is($code, 200, 'auth metrics answer 200 to the host');
like($hd->{'content-type'} // '', qr{^text/plain; version=0\.0\.4}, 'in Prometheus text format');
like($before, qr/^# TYPE lectern_http_requests_total counter$/m, 'requests are a counter');
like($before, qr/^# TYPE lectern_http_request_duration_seconds histogram$/m, 'latency is a histogram');
like($before, qr/^lectern_outbox_backlog\{service="auth"\} \d+$/m, 'the outbox backlog');
like($before, qr/^lectern_db_errors_total\{service="auth"\} \d+$/m, 'database errors');
like($before, qr/^lectern_redis_errors_total\{service="auth"\} \d+$/m, 'Redis errors');

my %me = (service => 'auth', route => 'GET /me', status => '200');
my %bad = (service => 'auth', route => 'POST /login', status => '401');
my $me0 = sample($before, 'lectern_http_requests_total', %me);
my $bad0 = sample($before, 'lectern_http_requests_total', %bad);
my $cnt0 = sample($before, 'lectern_http_request_duration_seconds_count', service => 'auth', route => 'GET /me');
# 23 requests: more than the pool has processes, so several of them count.
for (1 .. 23) {
	my ($c) = $s->request(GET => '/api/v1/auth/me', { Authorization => "Bearer $token" });
	$c == 200 or diag("GET /me answered $c");
}
for (1 .. 5) {
	my ($c) = $s->request(POST => '/api/v1/auth/login', {}, { email => $email, password => 'wrong password 1234' });
	$c == 401 or diag("a bad login answered $c");
}
(undef, undef, my $after) = scrape('auth');
is(sample($after, 'lectern_http_requests_total', %me) - $me0, 23, 'GET /me counted 23 times, status 200');
is(sample($after, 'lectern_http_requests_total', %bad) - $bad0, 5, 'POST /login counted 5 times, status 401');
my $cnt = sample($after, 'lectern_http_request_duration_seconds_count', service => 'auth', route => 'GET /me');
is($cnt - $cnt0, 23, 'the latency histogram counted them too');
is(sample($after, 'lectern_http_request_duration_seconds_bucket', service => 'auth', route => 'GET /me', le => '+Inf'),
	$cnt, 'its +Inf bucket is its count');
ok(sample($after, 'lectern_http_request_duration_seconds_sum', service => 'auth', route => 'GET /me') > 0,
	'and its sum is some time');
# Job queue figures per kind, from the documents service's database.
(undef, undef, my $docs) = scrape('documents');
like($docs, qr/^lectern_metrics_db_up\{service="documents"\} 1$/m, 'documents: queue figures read');
like($docs, qr/^lectern_outbox_oldest_seconds\{service="documents"\} [\d.]+$/m, 'documents: oldest unsent event');
for my $svc (qw(quizzes chat tts stt)) {
	my ($c, undef, $t) = scrape($svc);
	is($c, 200, "$svc metrics answer");
	like($t, qr/^lectern_http_requests_total\{service="\w+",route="GET \/health",status="200"\} \d+$/m,
		"$svc: its health calls from /ready are counted");
}

# --- consumer lag: events the worker has not applied --------------------
# The quiz worker is stopped (SIGSTOP); a document processed meanwhile
# leaves document.processed events it has not read; once it runs again the
# lag falls back to 0.
sub lag {
	my (undef, undef, $t) = scrape('quizzes');
	return undef unless sample($t, 'lectern_consumer_lag_up', service => 'quiz');
	return sample($t, 'lectern_consumer_lag', service => 'quiz', group => 'lectern-quiz',
		topic => 'document.processed');
}
sub settle {
	my ($want, $secs) = @_;
	my $v;
	for (1 .. $secs * 4) {
		$v = lag();
		return $v if defined $v && $want->($v);
		select(undef, undef, undef, 0.25);
	}
	return $v;
}
my $lag0 = settle(sub { $_[0] == 0 }, 60);
is($lag0, 0, 'consumer lag: the quiz worker is up to date');
open(my $qw, '<', "$dir/run/quiz-worker.pid") or die "quiz-worker.pid: $!";
my ($qpid) = <$qw> =~ /(\d+)/;
close $qw;
kill 'STOP', $qpid;
my ($ust) = $s->upload($token, 'lag.md', "# Lag\n\nA consumer group lags when events wait unread.\n", 'text/markdown');
is($ust, 201, 'a document is processed while the quiz worker is stopped');
my $lag1 = settle(sub { $_[0] >= 1 }, 30);
ok(defined $lag1 && $lag1 >= 1, "consumer lag: document.processed waits for the quiz worker ($lag1)");
kill 'CONT', $qpid;
my $lag2 = settle(sub { $_[0] == 0 }, 90);
is($lag2, 0, 'consumer lag: back to 0 once the worker runs again');

# --- host only ------------------------------------------------------------
# A non-loopback address of this host: the one a datagram would leave from
# (nothing is sent), else the first one hostname lists.
my $probe = IO::Socket::INET->new(Proto => 'udp', PeerAddr => '192.0.2.1', PeerPort => 9);
my $ip = $probe ? $probe->sockhost : undef;
($ip) = grep { /^\d+\.\d+\.\d+\.\d+$/ && !/^127\./ } split ' ', `hostname -I 2>/dev/null`
	if !$ip || $ip =~ /^(?:127\.|0\.)/;
ok($ip, "a non-loopback address of this host ($ip)") or diag('no global IPv4 address');
if ($ip) {
	my $port = $s->port('http') // ($s->http_url =~ /:(\d+)$/)[0];
	for my $path ('/api/v1/auth/metrics', '/api/v1/documents/metrics') {
		my $out = `curl -s -o /dev/null -w '%{http_code}' -H 'X-Forwarded-For: 127.0.0.1' 'http://$ip:$port$path'`;
		is($out, '403', "$path from $ip (claiming 127.0.0.1) is refused");
	}
	my $out = `curl -s -o /dev/null -w '%{http_code}' 'http://$ip:$port/health'`;
	is($out, '200', "... while /health answers from $ip");
}
# The pool refuses too, whoever reaches its socket with another address.
my $fcgi = `REQUEST_METHOD=GET DOCUMENT_URI=/api/v1/auth/metrics REQUEST_URI=/api/v1/auth/metrics REMOTE_ADDR=203.0.113.9 cgi-fcgi -bind -connect '$dir/run/auth.sock' 2>&1`;
like($fcgi, qr/^Status: 403/m, 'the pool itself refuses metrics to another address');
unlike($fcgi, qr/lectern_http_requests_total/, '... and shows none');
$fcgi = `REQUEST_METHOD=GET DOCUMENT_URI=/api/v1/auth/metrics REQUEST_URI=/api/v1/auth/metrics REMOTE_ADDR=127.0.0.1 cgi-fcgi -bind -connect '$dir/run/auth.sock' 2>&1`;
like($fcgi, qr/lectern_http_requests_total/, '... and answers the host');

# --- two gates (two nodes) share the rate limit and see a revocation at once ---
my %env;
open(my $ef, '<', "$dir/etc/auth.env") or die "auth.env: $!";
while (<$ef>) { $env{$1} = $2 if /^([A-Z_0-9]+)=(.*)$/ }
close $ef;
my $gate_prog = build_dir() . '/lectern-gate';
my $gate2 = fork() // die "fork: $!";
if ($gate2 == 0) {
	%ENV = (%env, PATH => $ENV{PATH}, LECTERN_LISTEN => "unix:$dir/run/gate2.sock", LECTERN_WORKERS => 1);
	open(STDOUT, '>>', "$dir/log/gate2.log");
	open(STDERR, '>&', \*STDOUT);
	exec($gate_prog) or POSIX::_exit(127);
}
for (1 .. 300) { last if -S "$dir/run/gate2.sock"; select(undef, undef, undef, 0.1) }
ok(-S "$dir/run/gate2.sock", 'a second gate, as on another node')
	or diag($s->slurp("$dir/log/gate2.log") // 'no log');
# check(SOCKET, TOKEN) -> (status, remaining, reason): one check over HTTP,
# as nginx asks it.
sub check {
	my ($sock, $tok) = @_;
	my $out = `curl -s -o /dev/null --unix-socket '$sock' -H 'Authorization: Bearer $tok' -w '%{http_code} %header{x-ratelimit-remaining} %header{x-auth-error}' http://gate/_lectern/gate`;
	return split / /, $out, 3;
}
my ($rs2) = $s->register("ops2-$$\@example.com", $password, 'Ops Two');
my (undef, $l2) = $s->login("ops2-$$\@example.com", $password);
my (%codes, %left);
for my $i (1 .. 36) {
	my ($c, $r) = check($i % 2 ? "$dir/run/gate.sock" : "$dir/run/gate2.sock", $l2->{token});
	$codes{$c}++;
	$left{$r}++ if $c eq '204';
}
is($codes{204}, 30, 'two gates let through 30 checks in all, the limit');
is($codes{403}, 6, '... and refuse the other 6 (rate_limited)');
is(join(',', sort { $a <=> $b } keys %left), join(',', 0 .. 29), '... counting down one shared counter');
# Another user: the one above has used up its limit.
$s->register("ops3-$$\@example.com", $password, 'Ops Three');
my (undef, $l3) = $s->login("ops3-$$\@example.com", $password);
my ($c1) = check("$dir/run/gate.sock", $l3->{token});
my ($c2) = check("$dir/run/gate2.sock", $l3->{token});
ok($c1 eq '204' && $c2 eq '204', 'a new session passes both gates');
($st) = $s->request(POST => '/api/v1/auth/logout', { Authorization => "Bearer $l3->{token}" },
	{ refresh_token => $l3->{refresh_token} });
is($st, 204, 'a session logs out');
my (undef, undef, $why1) = check("$dir/run/gate.sock", $l3->{token});
my (undef, undef, $why2) = check("$dir/run/gate2.sock", $l3->{token});
is($why1, 'revoked', 'the first gate refuses its token at once');
is($why2, 'revoked', 'the second gate too, with no delay');
kill 'TERM', $gate2;
waitpid($gate2, 0);

# --- a service down ---------------------------------------------------------
open(my $pf, '<', "$dir/run/chat.pid") or die "chat.pid: $!";
my $chat = <$pf>;
close $pf;
chomp $chat;
kill 'TERM', $chat;
for (1 .. 100) { last unless kill 0, $chat; select(undef, undef, undef, 0.1) }
($st, undef, $ready) = $s->request(GET => '/ready');
is($st, 503, '/ready answers 503 with the chat pool stopped');
is($ready->{status}, 'down', '/ready: status down');
is($ready->{services}{chat}{status}, 'down', '/ready: chat is down');
is($ready->{services}{auth}{status}, 'ok', '/ready: the others are still ok');

done_testing();
