# What an operator sees (CONTRACT.md section 8): GET /ready gathers every
# service's health (503 when one is down); each pool's /health checks every
# dependency it uses, Kafka included; GET /api/v1/<service>/metrics answers
# Prometheus text to the host only, with counts that match a known amount
# of traffic spread over the pool's processes; the gate's metrics count its
# checks by outcome and its connections, over its processes.
use strict;
use warnings;
use Test::More;
use Digest::SHA qw(hmac_sha256);
use IO::Socket::INET;
use IO::Socket::UNIX;
use JSON::PP;
use MIME::Base64 qw(encode_base64url);
use POSIX ();
use Lectern::Test qw(start_stack build_dir wait_until);

# A limit the tests below reach, in a window they cannot outlast; two gate
# processes, whose figures add up.
my $s = start_stack(env => { LAB_RATE_LIMIT => 30, LAB_RATE_WINDOW => 86400, LAB_GATE_WORKERS => 2 });
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

# --- the gate's metrics ---------------------------------------------------
# Every kind of check through nginx, counted exactly by outcome: tokens
# signed with the lab's key but wrong in one way, one signed with another
# key, alg=none, none at all, a user's whole limit and two more, a revoked
# token.
my $json = JSON::PP->new->canonical;
sub b64j { return encode_base64url($json->encode($_[0])) }
sub forge {
	my ($header, $claims, $key) = @_;
	my $input = b64j($header) . '.' . b64j($claims);
	return "$input." . encode_base64url(hmac_sha256($input, $key));
}
my $auth_env = $s->slurp("$dir/etc/auth.env") // '';
my ($keys_file) = $auth_env =~ /^LECTERN_JWT_KEYS_FILE=(.*)$/m;
my $keys_text = $keys_file ? $s->slurp($keys_file) : ($auth_env =~ /^LECTERN_JWT_KEYS=(.*)$/m)[0];
my ($kid, $secret) = ($keys_text // '') =~ /^\s*([A-Za-z0-9._-]+)\s+(\S+)/m;
ok($kid && $secret, 'the lab keyring is readable by the test');

my %gate = (service => 'gate');
sub checks { my ($t, $reason) = @_; return sample($t, 'lectern_gate_checks_total', %gate, reason => $reason) }
my @reasons = qw(allowed missing malformed algorithm unknown_kid signature issuer audience
	not_yet_valid expired revoked rate_limited unavailable error);

my $gemail = 'gate-' . time() . "-$$\@example.com";
$s->register($gemail, $password, 'Gate Ops');
my (undef, $gl) = $s->login($gemail, $password);
my $gtoken = $gl->{token} // '';
my $now = time;
my %claims = (sub => $gl->{user}{id} // '', email => $gemail, role => 'user', iat => $now, nbf => $now,
	exp => $now + 600, iss => 'lectern', aud => 'lectern-api', jti => '0b3c3a52-5a57-4b8e-9d7e-0f3b7c1d2e3f');
my $hdr = { alg => 'HS256', typ => 'JWT', kid => $kid };
my $none = b64j({ alg => 'none', typ => 'JWT', kid => $kid }) . '.' . b64j(\%claims);
my @refused = (
	# [what, Authorization, reason, how many]
	[ 'no token', undef, 'missing', 2 ],
	[ 'signed with another key', 'Bearer ' . forge($hdr, \%claims, 'x' x 64), 'signature', 4 ],
	[ 'alg=none, no signature', "Bearer $none.", 'malformed', 3 ],
	[ 'alg=none, a signature', "Bearer $none." . ('A' x 43), 'algorithm', 1 ],
	[ 'expired', 'Bearer ' . forge($hdr, { %claims, iat => $now - 7200, nbf => $now - 7200, exp => $now - 3600 }, $secret), 'expired', 1 ],
	[ 'another issuer', 'Bearer ' . forge($hdr, { %claims, iss => 'evil' }, $secret), 'issuer', 1 ],
	[ 'another audience', 'Bearer ' . forge($hdr, { %claims, aud => 'other-api' }, $secret), 'audience', 1 ],
	[ 'an unknown kid', 'Bearer ' . forge({ %$hdr, kid => 'nope' }, \%claims, $secret), 'unknown_kid', 1 ],
);
my ($gc, $gh, $g0) = scrape('gate');
is($gc, 200, 'gate metrics answer 200 to the host');
like($gh->{'content-type'} // '', qr{^text/plain; version=0\.0\.4}, 'gate metrics: Prometheus text');
like($g0, qr/^# TYPE lectern_gate_checks_total counter$/m, 'gate: checks are a counter');
like($g0, qr/^# TYPE lectern_gate_check_duration_seconds histogram$/m, 'gate: latency is a histogram');
like($g0, qr/^# TYPE lectern_gate_batch_size histogram$/m, 'gate: batch sizes are a histogram');
like($g0, qr/^lectern_gate_checks_total\{service="gate",reason="$_",status="\d{3}"\} \d+$/m,
	"gate: the $_ series is there from the start") for @reasons;
my %c0 = map { $_ => checks($g0, $_) } @reasons;
my $lat0 = sample($g0, 'lectern_gate_check_duration_seconds_count', %gate);
my $batch0 = sample($g0, 'lectern_gate_batch_size_sum', %gate);
my $batches0 = sample($g0, 'lectern_gate_batch_size_count', %gate);

my $made = 0;
for my $r (@refused) {
	my ($what, $authz, $reason, $n) = @$r;
	for (1 .. $n) {
		my ($c, undef, $body) = $s->request(GET => '/api/v1/auth/me', $authz ? { Authorization => $authz } : {});
		$made++;
		$c == 401 or diag("$what answered $c");
	}
}
my %codes;
for (1 .. 32) {
	my ($c) = $s->request(GET => '/api/v1/auth/me', { Authorization => "Bearer $gtoken" });
	$codes{$c}++;
	$made++;
}
is($codes{200}, 30, 'a user\'s 30 checks pass (the limit)');
is($codes{429}, 2, '... and two more are refused (429)');
# A revoked token: its logout is one more allowed check.
$s->register("gate2-$$\@example.com", $password, 'Gate Two');
my (undef, $gl2) = $s->login("gate2-$$\@example.com", $password);
my ($lo) = $s->request(POST => '/api/v1/auth/logout', { Authorization => "Bearer $gl2->{token}" },
	{ refresh_token => $gl2->{refresh_token} });
is($lo, 204, 'a second user logs out');
my ($rv) = $s->request(GET => '/api/v1/auth/me', { Authorization => "Bearer $gl2->{token}" });
is($rv, 401, '... and its token is refused');
$made += 2;

(undef, undef, my $g1) = scrape('gate');
my %want = (allowed => 31, rate_limited => 2, revoked => 1, unavailable => 0, error => 0, not_yet_valid => 0);
$want{ $_->[2] } += $_->[3] for @refused;
is(checks($g1, $_) - $c0{$_}, $want{$_}, "gate: $want{$_} checks counted as $_") for @reasons;
is(sample($g1, 'lectern_gate_checks_total', %gate, reason => 'rate_limited', status => '403'), checks($g1, 'rate_limited'),
	'gate: rate_limited is the gate\'s 403');
is(sample($g1, 'lectern_gate_checks_total', %gate, reason => 'signature', status => '401'), checks($g1, 'signature'),
	'gate: a bad signature is a 401');
my $lat = sample($g1, 'lectern_gate_check_duration_seconds_count', %gate);
is($lat - $lat0, $made, "gate: the latency histogram counted the $made checks");
is(sample($g1, 'lectern_gate_check_duration_seconds_bucket', %gate, le => '+Inf'), $lat, 'gate: its +Inf bucket is its count');
ok(sample($g1, 'lectern_gate_check_duration_seconds_sum', %gate) > 0, 'gate: and its sum is some time');
is(sample($g1, 'lectern_gate_batch_size_sum', %gate) - $batch0, $made, 'gate: the batch sizes add up to the checks');
my $batches = sample($g1, 'lectern_gate_batch_size_count', %gate) - $batches0;
ok($batches >= 1 && $batches <= $made, "gate: in $batches batches");
ok(sample($g1, 'lectern_gate_connections_open', %gate) >= 1, 'gate: nginx\'s connections are open');
ok(sample($g1, 'lectern_gate_connections_accepted_total', %gate) >= 1, 'gate: and were accepted');
like($g1, qr/^lectern_redis_errors_total\{service="gate"\} \d+$/m, 'gate: Redis errors');
like($g1, qr/^lectern_db_errors_total\{service="gate"\} \d+$/m, 'gate: database errors');
unlike($g1, qr/lectern_http_requests_total|lectern_outbox_backlog/, 'gate: no pool figures');
# nginx sends one URI whatever the client asked (the query is dropped).
my ($gq, undef, undef, $gqt) = $s->request(GET => '/api/v1/gate/metrics?x=1');
is($gq, 200, 'gate metrics with a query: still the figures');
like($gqt // '', qr/^lectern_gate_checks_total/m, '... as text');

# Straight to the gate's socket: who asked is X-Real-IP (nginx's), or
# REMOTE_ADDR for a FastCGI client, which comes first.
my $gsock = "$dir/run/gate.sock";
sub gate_http {
	my (@args) = @_;
	my $out = `curl -s --unix-socket '$gsock' -w '\n%{http_code}' @args http://gate/api/v1/gate/metrics`;
	my ($body, $code) = $out =~ /^(.*)\n(\d+)$/s;
	return ($code // 0, $body // '');
}
my ($hc, $hb) = gate_http("-H 'X-Real-IP: 203.0.113.9' -H 'X-Request-ID: scrape-test-1'");
is($hc, 403, 'the gate refuses metrics to another address (X-Real-IP)');
my $err = eval { decode_json($hb) } // {};
is($err->{error}, 'forbidden', '... with the JSON error');
is($err->{request_id}, 'scrape-test-1', '... and the request id');
unlike($hb, qr/lectern_gate/, '... and shows no figures');
($hc, $hb) = gate_http("-H 'X-Real-IP: 127.0.0.1'");
is($hc, 200, 'the gate answers X-Real-IP 127.0.0.1');
like($hb, qr/^lectern_gate_checks_total/m, '... with the figures');
($hc, $hb) = gate_http("-H 'X-Real-IP: ::1'");
is($hc, 200, '... and ::1');
($hc) = gate_http("-X POST -H 'Content-Length: 0'");
is($hc, 405, 'POST is not a scrape: 405');
my $gf = `REQUEST_METHOD=GET REQUEST_URI=/api/v1/gate/metrics REMOTE_ADDR=203.0.113.9 HTTP_X_REAL_IP=127.0.0.1 cgi-fcgi -bind -connect '$gsock' 2>&1`;
like($gf, qr/^Status: 403/m, 'FastCGI: REMOTE_ADDR outranks an X-Real-IP a client could send');
unlike($gf, qr/lectern_gate_checks_total/, '... and shows none');
$gf = `REQUEST_METHOD=GET REQUEST_URI=/api/v1/gate/metrics REMOTE_ADDR=127.0.0.1 cgi-fcgi -bind -connect '$gsock' 2>&1`;
like($gf, qr/lectern_gate_checks_total/, 'FastCGI: the host is answered');

# Connections: one that sends what is neither HTTP nor FastCGI is dropped,
# one that begins a request and stalls is timed out
# (LECTERN_GATE_READ_TIMEOUT_MS, 5 s).
(undef, undef, my $g2) = scrape('gate');
my $dropped0 = sample($g2, 'lectern_gate_connections_dropped_total', %gate);
my $timed0 = sample($g2, 'lectern_gate_connections_timed_out_total', %gate);
my $acc0 = sample($g2, 'lectern_gate_connections_accepted_total', %gate);
# closed_by_peer(SOCKET, SECONDS): whether the other end closes it in time.
sub closed_by_peer {
	my ($sock, $secs) = @_;
	my $end = time + $secs;
	while (time < $end) {
		my $bits = '';
		vec($bits, fileno($sock), 1) = 1;
		next unless select($bits, undef, undef, 0.5);
		my $n = sysread($sock, my $buf, 4096);
		return 1 if defined $n && $n == 0;
	}
	return 0;
}
sub gate_conn {
	my ($bytes) = @_;
	my $c = IO::Socket::UNIX->new(Peer => $gsock) or die "gate.sock: $!";
	syswrite($c, $bytes);
	return $c;
}
my $bad = gate_conn("\x00 not a request\r\n\r\n");
ok(closed_by_peer($bad, 10), 'a connection that speaks neither protocol is closed');
close $bad;
my $t0 = time;
my $slow = gate_conn("GET /_lectern/gate HTTP/1.1\r\nHost: gate\r\n");
ok(closed_by_peer($slow, 20) && time - $t0 >= 4,
	'a request begun and never ended is closed after the read timeout (' . (time - $t0) . ' s)');
close $slow;
(undef, undef, my $g3) = scrape('gate');
is(sample($g3, 'lectern_gate_connections_dropped_total', %gate) - $dropped0, 1, 'gate: one connection dropped');
is(sample($g3, 'lectern_gate_connections_timed_out_total', %gate) - $timed0, 1, 'gate: one connection timed out');
ok(sample($g3, 'lectern_gate_connections_accepted_total', %gate) - $acc0 >= 2, 'gate: both were accepted');
my $all = 0;
$all += checks($g3, $_) - checks($g1, $_) for @reasons;
is($all, 0, 'gate: no scrape and no broken connection was a check');

# Any process answers for all: with Redis frozen, a check holds the process
# that takes it (the one that took the traffic above: an idle gate's first
# process is woken first), so the next scrape is the other's, and it must
# say the same.
my ($rpid) = ($s->slurp("$dir/redis/redis.pid") // '') =~ /(\d+)/;
ok($rpid && kill('STOP', $rpid), 'Redis frozen');
my $held = fork() // die "fork: $!";
if ($held == 0) {
	exec('curl', '-s', '-o', '/dev/null', '--unix-socket', $gsock, '-H', "Authorization: Bearer $gtoken",
		'http://gate/_lectern/gate') or POSIX::_exit(127);
}
select(undef, undef, undef, 0.3);
my ($oc, $other) = gate_http('');
kill 'CONT', $rpid if $rpid;
waitpid($held, 0);
is($oc, 200, 'a scrape while one gate process waits on Redis');
# On a loaded machine the held check may reach its Redis timeout (1 s)
# before the scrape: then it is one more "unavailable", and nothing else.
my $late = checks($other, 'unavailable') - checks($g3, 'unavailable');
ok($late == 0 || $late == 1, "... the held check is not counted, or counted unavailable ($late)");
is(checks($other, $_), checks($g3, $_), "... sees the same $_ checks") for grep { $_ ne 'unavailable' } @reasons;
is(sample($other, 'lectern_gate_check_duration_seconds_count', %gate) - $late,
	sample($g3, 'lectern_gate_check_duration_seconds_count', %gate), '... and the same latency count');
is(sample($other, 'lectern_gate_connections_dropped_total', %gate), sample($g3, 'lectern_gate_connections_dropped_total', %gate),
	'... and the same dropped connections');

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
	for my $path ('/api/v1/auth/metrics', '/api/v1/documents/metrics', '/api/v1/gate/metrics') {
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
	%ENV = (%env, PATH => $ENV{PATH}, LECTERN_LISTEN => "unix:$dir/run/gate2.sock", LECTERN_WORKERS => 1,
		LECTERN_GATE_CONNECTIONS => 3);
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
# The second gate's own figures (its own segment): its half of the checks,
# and a connection over its ceiling of 3 refused.
my @held = map { IO::Socket::UNIX->new(Peer => "$dir/run/gate2.sock") or die "gate2.sock: $!" } 1 .. 3;
select(undef, undef, undef, 0.5);
my $over = IO::Socket::UNIX->new(Peer => "$dir/run/gate2.sock") or die "gate2.sock: $!";
ok(closed_by_peer($over, 10), 'a connection over the second gate\'s ceiling is closed at once');
close $_ for $over, @held;
select(undef, undef, undef, 0.5); # the gate sees them closed before the scrape comes
my $g2t = wait_until(sub {
	my $t = `curl -s --unix-socket '$dir/run/gate2.sock' http://gate/api/v1/gate/metrics`;
	return $t =~ /^lectern_gate_connections_refused_total/m ? $t : undef;
}, 10) // '';
is(sample($g2t, 'lectern_gate_connections_refused_total', %gate), 1, 'gate2: one connection refused');
is(checks($g2t, 'allowed'), 16, 'gate2: 16 checks allowed (15 of the 30, one new session)');
is(checks($g2t, 'rate_limited'), 3, 'gate2: 3 rate-limited');
is(checks($g2t, 'revoked'), 1, 'gate2: 1 revoked');
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
