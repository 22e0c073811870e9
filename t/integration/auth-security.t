# auth-security: the hardening of issue 17, through nginx on a private
# stack: weak passwords refused with the reason, failed-login limits exact
# under concurrency, revocations that survive a Redis restart, and a reused
# refresh token that ends its family's access tokens.
use strict;
use warnings;
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use Lectern::Test qw(start_stack src_dir);

# Many pool workers, so concurrent logins really run side by side; an
# address limit out of reach, so only the failed-login limits count.
my $stack = start_stack(env => { LAB_WORKERS => 8, LAB_RATE_LIMIT => 100000 });

sub call { return $stack->request(@_) }
sub bearer { return { Authorization => "Bearer $_[0]" } }

# --- passwords (NIST SP 800-63B: no common, breached or context words) -------
for my $case (
	[ '12345678', 'too easy to guess' ],
	[ 'password', 'too easy to guess' ],
	[ '        ', 'too easy to guess' ],
	[ 'iloveyou', 'too easy to guess' ],
	[ 'Password1!', 'too easy to guess' ],
	[ 'ada.lovelace@example.org', 'your email address' ],
	[ 'Lovelace1815!', 'your' ],
) {
	my ($pw, $why) = @$case;
	my ($st, undef, $body) = call(POST => '/api/v1/auth/register', {},
		{ email => 'ada.lovelace@example.org', password => $pw, name => 'Ada Lovelace' });
	is($st, 400, "register with '$pw' answers 400");
	is($body->{error}, 'invalid_request', "'$pw': invalid_request");
	like($body->{message} // '', qr/\Q$why\E/, "'$pw': the message says why");
	ok((grep { ($_->{field} // '') eq 'password' } @{ $body->{details} // [] }), "'$pw': details name the password");
}
{
	my ($st, undef, $body) = call(POST => '/api/v1/auth/register', {},
		{ email => 'ada.lovelace@example.org', password => 'short', name => 'Ada Lovelace' });
	is($st, 400, 'a password under 8 characters is still refused');
	($st) = call(POST => '/api/v1/auth/register', {},
		{ email => 'ada.lovelace@example.org', password => 'analytical engine notes', name => 'Ada Lovelace' });
	is($st, 201, 'a long passphrase is accepted');
}

# --- failed logins: the limits hold exactly under concurrency ---------------
sub redis_cli {
	my (@args) = @_;
	my ($pass) = ($stack->slurp($stack->dir . '/etc/secrets.env') // '') =~ /^REDIS_PASSWORD=(\S+)$/m;
	local $ENV{REDISCLI_AUTH} = $pass;
	my @cmd = ('redis-cli', '-h', '127.0.0.1', '-p', $stack->port('redis'), @args);
	my $out = `@cmd 2>&1`;
	return $out;
}

# N logins at once (each in its own process, released together); returns
# the count of each status.
sub parallel_logins {
	my (@bodies) = @_;
	my $start = time + 2;
	my @kids;
	for my $i (0 .. $#bodies) {
		my $out = $stack->dir . "/login.$i";
		my $pid = fork() // die "fork: $!";
		if ($pid == 0) {
			select(undef, undef, undef, 0.01) while time < $start;
			# Up to 60 password hashes queue behind a few pool workers (and
			# under ASan each takes a while): wait as long as nginx does.
			my $res = HTTP::Tiny->new(timeout => 120, keep_alive => 0)->request(POST => $stack->http_url
				. '/api/v1/auth/login', { headers => { 'Content-Type' => 'application/json' },
				content => JSON::PP->new->encode($bodies[$i]) });
			my $st = $res->{status};
			open(my $fh, '>', $out) or POSIX::_exit(1);
			print $fh $st;
			close $fh;
			require POSIX;
			POSIX::_exit(0);
		}
		push @kids, [ $pid, $out ];
	}
	my %count;
	for (@kids) {
		waitpid($_->[0], 0);
		$count{ $stack->slurp($_->[1]) // 'none' }++;
	}
	return \%count;
}

{
	my ($st) = call(POST => '/api/v1/auth/register', {},
		{ email => 'grace@example.org', password => 'compiler of compilers', name => 'Grace' });
	is($st, 201, 'grace registers');
	my $c = parallel_logins(map { { email => 'grace@example.org', password => "wrong guess $_" } } 1 .. 40);
	is($c->{401}, 10, '40 concurrent wrong passwords for one email: exactly 10 are checked')
		or diag(explain($c));
	is($c->{429}, 30, '... and the other 30 are refused before hashing');
	($st) = call(POST => '/api/v1/auth/login', {}, { email => 'grace@example.org', password => 'compiler of compilers' });
	is($st, 429, 'then even the right password waits for the window');
}
{
	# The address's counter starts over (the email test above used it).
	redis_cli('--scan', '--pattern', 'lf:a:*');
	for my $key (split /\n/, redis_cli('--scan', '--pattern', 'lf:a:*')) {
		redis_cli('DEL', $key);
	}
	my $c = parallel_logins(map { { email => "nobody$_\@example.org", password => 'wrong guess' } } 1 .. 60);
	is($c->{401}, 50, '60 concurrent failed logins from one address: exactly 50 are checked')
		or diag(explain($c));
	is($c->{429}, 10, '... and 10 are refused');
}
{
	# A good login gives its place back: it never counts as a failure.
	my ($st) = call(POST => '/api/v1/auth/register', {},
		{ email => 'hedy@example.org', password => 'frequency hopping spread', name => 'Hedy' });
	for my $key (split /\n/, redis_cli('--scan', '--pattern', 'lf:a:*')) {
		redis_cli('DEL', $key);
	}
	my $c = parallel_logins(map { { email => 'hedy@example.org', password => 'frequency hopping spread' } } 1 .. 12);
	is($c->{200}, 12, '12 concurrent good logins all succeed (the limit counts failures only)')
		or diag(explain($c));
}

# --- revocations survive a Redis restart, and Redis comes back persistent ---
sub lab_tool {
	my ($tool, @args) = @_;
	my $rc = system(src_dir() . "/tools/$tool", @args);
	return $rc == 0;
}
sub redis_password {
	my ($pass) = ($stack->slurp($stack->dir . '/etc/secrets.env') // '') =~ /^REDIS_PASSWORD=(\S+)$/m;
	return $pass;
}
sub restart_redis {
	my (%o) = @_;
	my $dir = $stack->dir . '/redis';
	ok(lab_tool('lab-redis', 'stop', $dir), 'Redis stopped');
	if ($o{empty}) {
		system('rm', '-rf', "$dir/appendonlydir", "$dir/appendonly.aof", "$dir/dump.rdb");
	}
	ok(lab_tool('lab-redis', 'start', $dir, $stack->port('redis'), redis_password()),
		$o{empty} ? 'Redis started again, empty' : 'Redis started again');
}
my ($st, $alan, $other, $body);
($st, $alan) = $stack->register('alan@example.org', 'universal machine tape', 'Alan');
is($st, 201, 'alan registers');
($st, $other) = $stack->login('alan@example.org', 'universal machine tape');
is($st, 200, 'alan logs in a second time');
($st) = call(POST => '/api/v1/auth/logout', bearer($alan->{token}), { refresh_token => $alan->{refresh_token} });
is($st, 204, 'alan logs out his first session');
($st, undef, $body) = call(GET => '/api/v1/auth/me', bearer($alan->{token}));
is($st, 401, 'the logged-out token is refused');

restart_redis();
($st, undef, $body) = call(GET => '/api/v1/auth/me', bearer($alan->{token}));
is($st, 401, 'after a Redis restart (with its data) the logged-out token is still refused');
like($body->{message} // '', qr/revoked/, '... as revoked');
like(redis_cli('CONFIG', 'GET', 'appendonly'), qr/yes/, "the lab's Redis keeps an append-only file");

restart_redis(empty => 1);
like(redis_cli('EXISTS', 'revoked:ready'), qr/^0/, 'the empty Redis has no revocation cache');
($st, undef, $body) = call(GET => '/api/v1/auth/me', bearer($alan->{token}));
is($st, 401, 'after Redis restarted empty the logged-out token is still refused');
like($body->{message} // '', qr/revoked/, '... as revoked (the gate rebuilt the cache from Postgres)');
($st) = call(GET => '/api/v1/auth/me', bearer($other->{token}));
is($st, 200, "alan's other session still works");
like(redis_cli('EXISTS', 'revoked:ready'), qr/^1/, 'the cache is marked complete again');

# Fail closed: an empty Redis and no Postgres to rebuild from: nothing passes.
ok(lab_tool('lab-postgres', 'stop', $stack->dir . '/postgres'), 'Postgres stopped');
restart_redis(empty => 1);
($st, undef, $body) = call(GET => '/api/v1/auth/me', bearer($alan->{token}));
is($st, 503, 'without Postgres the gate cannot rebuild: the revoked token gets 503');
like($body->{message} // '', qr/authentication service/, '... from the gate');
($st, undef, $body) = call(GET => '/api/v1/auth/me', bearer($other->{token}));
is($st, 503, '... and so does a valid one (fail closed)');
is($body->{error}, 'unavailable', '... as the JSON unavailable');
like($body->{message} // '', qr/authentication service/, '... from the gate, not the service');
ok(lab_tool('lab-postgres', 'start', $stack->dir . '/postgres', $stack->port('pg')), 'Postgres started again');
my $back = 0;
for (1 .. 50) {
	($st) = call(GET => '/api/v1/auth/me', bearer($other->{token}));
	if ($st == 200) { $back = 1; last }
	select(undef, undef, undef, 0.2);
}
ok($back, 'with Postgres back the gate rebuilds and answers again');
($st) = call(GET => '/api/v1/auth/me', bearer($alan->{token}));
is($st, 401, '... and the logged-out token is still refused');

# --- refresh-token reuse ends the family's access tokens -------------------
{
	my ($st1, $s1) = $stack->login('alan@example.org', 'universal machine tape');
	my ($st2, undef, $s2) = call(POST => '/api/v1/auth/refresh', {}, { refresh_token => $s1->{refresh_token} });
	is($st2, 200, 'a refresh');
	($st) = call(GET => '/api/v1/auth/me', bearer($s1->{token}));
	is($st, 200, 'the first access token of the family works');
	($st) = call(GET => '/api/v1/auth/me', bearer($s2->{token}));
	is($st, 200, 'the refreshed access token works');
	($st) = call(POST => '/api/v1/auth/refresh', {}, { refresh_token => $s1->{refresh_token} });
	is($st, 401, 'the spent refresh token, presented again, is refused');
	($st, undef, $body) = call(GET => '/api/v1/auth/me', bearer($s2->{token}));
	is($st, 401, "after the reuse the family's newest access token is refused");
	like($body->{message} // '', qr/revoked/, '... as revoked');
	($st) = call(GET => '/api/v1/auth/me', bearer($s1->{token}));
	is($st, 401, "... and so is the family's first one");
	($st) = call(GET => '/api/v1/auth/me', bearer($other->{token}));
	is($st, 200, 'a session of another family is untouched');
	restart_redis(empty => 1);
	($st) = call(GET => '/api/v1/auth/me', bearer($s2->{token}));
	is($st, 401, "the family's access token stays refused after Redis restarted empty");
}

done_testing();
