# The auth service through nginx: every call of the auth contract, its
# errors, the token attacks, refresh-token rotation and reuse, logout, the
# rate limit, forged identity headers, the root /auth alias and HTTPS.
use strict;
use warnings;

use Digest::SHA qw(hmac_sha256);
use JSON::PP;
use MIME::Base64 qw(encode_base64url decode_base64url);
use Test::More;

use Lectern::Test qw(start_stack skip_unless);

my $stack = start_stack();
my $json = JSON::PP->new->canonical;

sub call { return $stack->request(@_) }

sub bearer { return { Authorization => "Bearer $_[0]" } }

my $uuid_re = qr/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
my $time_re = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

# The lab's signing key, to forge tokens that are right in all but one way.
sub lab_keys {
	my $env = $stack->slurp($stack->dir . '/etc/auth.env') // '';
	my ($file) = $env =~ /^LECTERN_JWT_KEYS_FILE=(.*)$/m;
	my $text = $file ? $stack->slurp($file) : ($env =~ /^LECTERN_JWT_KEYS=(.*)$/m)[0];
	my ($kid, $secret) = ($text // '') =~ /^\s*([A-Za-z0-9._-]+)\s+(\S+)/m;
	return ($kid, $secret);
}
my ($kid, $secret) = lab_keys();
ok($kid && $secret, 'the lab keyring is readable by the test');

sub b64j { return encode_base64url($json->encode($_[0])) }

# forge(HEADER, CLAIMS, KEY): a token signed with HMAC-SHA256 under KEY.
sub forge {
	my ($header, $claims, $key) = @_;
	my $input = b64j($header) . '.' . b64j($claims);
	return "$input." . encode_base64url(hmac_sha256($input, $key));
}

# --- register -----------------------------------------------------------
my $email = 'Ada.Lovelace@Example.org';
my ($st, $h, $body) = call(POST => '/api/v1/auth/register', {},
	{ email => "  $email ", password => 'correct horse battery', name => 'Ada Lovelace' });
is($st, 201, 'register answers 201');
like($body->{token} // '', qr/^[\w-]+\.[\w-]+\.[\w-]+$/, 'a JWT comes back');
is($body->{access_token}, $body->{token}, 'access_token equals token');
is($body->{token_type}, 'Bearer', 'token_type');
is($body->{expires_in}, 3600, 'expires_in is 60 minutes');
like($body->{refresh_token} // '', qr/^[A-Za-z0-9_-]{43}$/, 'an opaque refresh token');
is($body->{user}{email}, lc $email, 'email is trimmed and lower-cased');
is($body->{user}{name}, 'Ada Lovelace', 'user.name');
is($body->{user}{role}, 'user', 'user.role');
like($body->{user}{id} // '', $uuid_re, 'user.id is a UUID');
is($body->{user}{user_id}, $body->{user}{id}, 'user.user_id equals id');
like($body->{user}{created_at} // '', $time_re, 'created_at is RFC 3339 UTC');
like($h->{'content-type'} // '', qr{^application/json; charset=utf-8}, 'JSON content type');
like($h->{'x-request-id'} // '', qr/^[A-Za-z0-9._-]{8,64}$/, 'X-Request-ID on the answer');
my $ada = $body;

# The token's claims, as the contract lists them.
my (undef, $payload) = split /\./, $ada->{token};
my $claims = decode_json(decode_base64url($payload));
is($claims->{sub}, $ada->{user}{id}, 'sub is the user id');
is($claims->{user_id}, $ada->{user}{id}, 'user_id claim');
is($claims->{iss}, 'lectern', 'iss');
is($claims->{aud}, 'lectern-api', 'aud');
is($claims->{exp} - $claims->{iat}, 3600, 'exp is iat + 60 minutes');
like($claims->{jti} // '', $uuid_re, 'jti is a UUID');

# An independent checker (PyJWT) accepts it.
SKIP: {
	skip_unless(system('/usr/bin/python3 -c "import jwt" 2>/dev/null') == 0, 'no /usr/bin/python3 with jwt', 1);
	my $py = q{import jwt,sys; print(jwt.decode(sys.argv[1], sys.argv[2], algorithms=["HS256"], audience="lectern-api", issuer="lectern")["email"])};
	my $out = `/usr/bin/python3 -c '$py' '$ada->{token}' '$secret' 2>&1`;
	chomp $out;
	is($out, lc $email, 'PyJWT verifies the access token');
}

($st, undef, $body) = call(POST => '/api/v1/auth/register', {},
	{ email => 'ADA.LOVELACE@example.ORG', password => 'another password', name => 'Imposter' });
is($st, 409, 'a duplicate email (other case) answers 409');
is($body->{error}, 'conflict', 'error code conflict');

# Validation: each case answers 400 with the field named.
my @bad = (
	[ { password => 'long enough pw', name => 'N' }, 'email', 'missing email' ],
	[ { email => 'not-an-email', password => 'long enough pw', name => 'N' }, 'email', 'malformed email' ],
	[ { email => 'x@example.org', password => 'short', name => 'N' }, 'password', 'short password' ],
	[ { email => 'x@example.org', password => 'p' x 257, name => 'N' }, 'password', 'password over 256' ],
	[ { email => 'x@example.org', password => 'long enough pw', name => '' }, 'name', 'empty name' ],
	[ { email => 'x@example.org', password => 'long enough pw', name => 'n' x 101 }, 'name', 'name over 100' ],
	[ { email => 5, password => 'long enough pw', name => 'N' }, 'email', 'email of the wrong type' ],
	[ { email => 'x@example.org', password => [1], name => 'N' }, 'password', 'password of the wrong type' ],
	[ { email => 'x@example.org', password => "nul\x{0}inside", name => 'N' }, 'password', 'NUL in a string' ],
);
for my $case (@bad) {
	my ($b, $field, $what) = @$case;
	($st, undef, $body) = call(POST => '/api/v1/auth/register', {}, $b);
	is($st, 400, "$what: 400");
	is($body->{error}, 'invalid_request', "$what: invalid_request");
	ok((grep { ($_->{field} // '') eq $field } @{ $body->{details} // [] }), "$what: details name $field");
}

my @raw = (
	[ '{"email": "x@example.org", "password": ', 400, 'truncated JSON' ],
	[ '[1, 2, 3]', 400, 'a JSON array, not an object' ],
	[ '"just a string"', 400, 'a JSON string' ],
	[ ('[' x 100) . (']' x 100), 400, 'deep nesting' ],
	[ "{\"email\": \"\xff\xfe\@x.org\", \"password\": \"long enough pw\", \"name\": \"N\"}", 400, 'invalid UTF-8' ],
);
for my $case (@raw) {
	my ($text, $want, $what) = @$case;
	($st, undef, $body) = call(POST => '/api/v1/auth/register', { 'Content-Type' => 'application/json' }, $text);
	is($st, $want, "$what: $want");
	ok($body && $body->{error} && $body->{message} && exists $body->{request_id}, "$what: JSON error body");
}
($st, undef, $body) = call(POST => '/api/v1/auth/register', { 'Content-Type' => 'text/plain' },
	'{"email": "y@example.org", "password": "long enough pw", "name": "N"}');
is($st, 415, 'a body that is not JSON answers 415');
is($body->{error}, 'unsupported_media_type', 'error code unsupported_media_type');
($st, undef, $body) = call(POST => '/api/v1/auth/register', { 'Content-Type' => 'application/json' },
	'{"name": "' . ('x' x 200_000) . '"}');
is($st, 413, 'an oversize body answers 413');
is($body->{error}, 'payload_too_large', 'error code payload_too_large');

# --- login ----------------------------------------------------------------
($st, undef, $body) = call(POST => '/api/v1/auth/login', {}, { email => $email, password => 'correct horse battery' });
is($st, 200, 'login answers 200');
is($body->{user}{id}, $ada->{user}{id}, 'login finds the same user');
ok($body->{token} && $body->{refresh_token}, 'login returns a session');

($st, undef, my $wrong) = call(POST => '/api/v1/auth/login', {}, { email => $email, password => 'wrong password!' });
is($st, 401, 'a wrong password answers 401');
($st, undef, my $unknown) = call(POST => '/api/v1/auth/login', {}, { email => 'nobody@example.org', password => 'wrong password!' });
is($st, 401, 'an unknown email answers 401');
is($wrong->{message}, $unknown->{message}, 'one message for both');
($st) = call(POST => '/api/v1/auth/login', {}, { email => $email });
is($st, 400, 'login without a password answers 400');

# --- the root alias and HTTPS ---------------------------------------------
($st, undef, $body) = call(POST => '/auth/login', {}, { email => $email, password => 'correct horse battery' });
is($st, 200, '/auth/login (root alias) works');
($st, undef, $body) = call(POST => '/api/v1/auth/login', {}, { email => $email, password => 'correct horse battery' }, { https => 1 });
is($st, 200, 'login over HTTPS');

# --- me, verify, forged identity -------------------------------------------
($st, $h, $body) = call(GET => '/api/v1/auth/me', bearer($ada->{token}));
is($st, 200, '/me with a token answers 200');
is($body->{id}, $ada->{user}{id}, '/me is the token owner');
is($h->{'x-ratelimit-limit'}, 100, 'X-RateLimit-Limit on an authenticated answer');
like($h->{'x-ratelimit-remaining'} // '', qr/^\d+$/, 'X-RateLimit-Remaining');
ok(($h->{'x-ratelimit-reset'} // 0) > time - 5, 'X-RateLimit-Reset is a Unix time');
($st, undef, $body) = call(GET => '/auth/me', bearer($ada->{token}));
is($st, 200, '/auth/me (root alias) is guarded and works');

($st, undef, my $bob) = call(POST => '/api/v1/auth/register', {}, { email => 'bob@example.org', password => 'bob password 1', name => 'Bob' });
is($st, 201, 'a second user registers');
($st, undef, $body) = call(GET => '/api/v1/auth/me',
	{ %{ bearer($ada->{token}) }, 'X-User-Id' => $bob->{user}{id}, 'X-User-Email' => 'bob@example.org', 'Lectern-User-Id' => $bob->{user}{id} });
is($body->{id}, $ada->{user}{id}, 'a forged identity header does not change who the caller is');
($st, undef, $body) = call(GET => '/api/v1/auth/me', { 'X-User-Id' => $bob->{user}{id} });
is($st, 401, 'a forged identity header without a token answers 401');
is($body->{error}, 'unauthorized', 'as JSON');

($st, undef, $body) = call(GET => '/api/v1/auth/verify', bearer($ada->{token}));
is($st, 200, '/verify answers 200');
ok($body->{valid}, 'valid is true');
is($body->{user}{id}, $ada->{user}{id}, 'verify names the user');
like($body->{expires_at} // '', $time_re, 'expires_at is RFC 3339');

($st) = call(GET => '/api/v1/auth/_check', bearer($ada->{token}));
is($st, 404, 'the gate is not reachable from outside');

# --- token attacks: every one answers 401 ---------------------------------
my $now = time;
my %good = (sub => $ada->{user}{id}, user_id => $ada->{user}{id}, email => lc $email, name => 'Ada Lovelace',
	role => 'user', iat => $now, nbf => $now, exp => $now + 600, iss => 'lectern', aud => 'lectern-api',
	jti => '6f1c2a52-5a57-4b8e-9d7e-0f3b7c1d2e3f');
my $hdr = { alg => 'HS256', typ => 'JWT', kid => $kid };
ok(length forge($hdr, \%good, $secret), 'a correct forged token can be made');
($st) = call(GET => '/api/v1/auth/me', bearer(forge($hdr, \%good, $secret)));
is($st, 200, 'control: a token signed with the lab key is accepted');

my $rsa_pub = `openssl genrsa 2048 2>/dev/null | openssl rsa -pubout 2>/dev/null`;
my @attacks = (
	[ 'alg none', b64j({ alg => 'none', typ => 'JWT', kid => $kid }) . '.' . b64j(\%good) . '.' ],
	[ 'alg none with a signature', b64j({ alg => 'none', kid => $kid }) . '.' . b64j(\%good) . '.' . encode_base64url('x') ],
	[ 'HS512 with the right key', do {
		my $in = b64j({ alg => 'HS512', typ => 'JWT', kid => $kid }) . '.' . b64j(\%good);
		"$in." . encode_base64url(Digest::SHA::hmac_sha512($in, $secret)) } ],
	[ 'tampered payload', do {
		my ($a, undef, $c) = split /\./, forge($hdr, \%good, $secret);
		"$a." . b64j({ %good, role => 'admin' }) . ".$c" } ],
	[ 'wrong key', forge($hdr, \%good, 'x' x 64) ],
	[ 'wrong iss', forge($hdr, { %good, iss => 'evil' }, $secret) ],
	[ 'wrong aud', forge($hdr, { %good, aud => 'other-api' }, $secret) ],
	[ 'expired', forge($hdr, { %good, iat => $now - 7200, nbf => $now - 7200, exp => $now - 3600 }, $secret) ],
	[ 'unknown kid', forge({ %$hdr, kid => 'nope' }, \%good, $secret) ],
	[ 'RSA public key as HMAC key', forge({ alg => 'HS256', typ => 'JWT', kid => $kid }, \%good, $rsa_pub) ],
	[ 'RS256 header', forge({ alg => 'RS256', typ => 'JWT', kid => $kid }, \%good, $rsa_pub) ],
	[ 'garbage', 'not.a.token' ],
	[ 'two segments', join('.', (split /\./, $ada->{token})[0, 1]) ],
);
for my $attack (@attacks) {
	my ($what, $token) = @$attack;
	($st, undef, $body) = call(GET => '/api/v1/auth/me', bearer($token));
	is($st, 401, "$what: 401");
	is($body->{error} // '', 'unauthorized', "$what: JSON unauthorized");
}
($st, undef, $body) = call(GET => '/api/v1/auth/me', {});
is($st, 401, 'no token: 401');
($st, undef, $body) = call(GET => '/api/v1/auth/me', { Authorization => "Basic " . encode_base64url("a:b") });
is($st, 401, 'another scheme: 401');

# --- refresh: rotation, then reuse revokes the family ----------------------
($st, undef, my $s1) = call(POST => '/api/v1/auth/login', {}, { email => 'bob@example.org', password => 'bob password 1' });
($st, undef, my $s2) = call(POST => '/api/v1/auth/refresh', {}, { refresh_token => $s1->{refresh_token} });
is($st, 200, 'refresh answers 200');
isnt($s2->{refresh_token}, $s1->{refresh_token}, 'a new refresh token comes back');
is($s2->{user}{id}, $bob->{user}{id}, 'for the same user');
($st, undef, $body) = call(GET => '/api/v1/auth/me', bearer($s2->{token}));
is($st, 200, 'the refreshed access token works');
($st) = call(POST => '/api/v1/auth/refresh', {}, { refresh_token => $s1->{refresh_token} });
is($st, 401, 'a spent refresh token answers 401');
($st) = call(POST => '/api/v1/auth/refresh', {}, { refresh_token => $s2->{refresh_token} });
is($st, 401, 'after reuse the whole family is revoked');
($st) = call(POST => '/api/v1/auth/refresh', {}, { refresh_token => 'x' x 43 });
is($st, 401, 'an unknown refresh token answers 401');
($st) = call(POST => '/api/v1/auth/refresh', {}, {});
is($st, 400, 'refresh without a token answers 400');

# --- logout ------------------------------------------------------------------
($st, undef, my $s3) = call(POST => '/api/v1/auth/login', {}, { email => 'bob@example.org', password => 'bob password 1' });
($st, undef, my $other) = call(POST => '/api/v1/auth/login', {}, { email => 'bob@example.org', password => 'bob password 1' });
($st) = call(POST => '/api/v1/auth/logout', bearer($s3->{token}), { refresh_token => $s3->{refresh_token} });
is($st, 204, 'logout answers 204');
($st, undef, $body) = call(GET => '/api/v1/auth/me', bearer($s3->{token}));
is($st, 401, 'the access token stops working after logout');
($st) = call(POST => '/api/v1/auth/refresh', {}, { refresh_token => $s3->{refresh_token} });
is($st, 401, 'the refresh family stops working after logout');
($st) = call(GET => '/api/v1/auth/me', bearer($other->{token}));
is($st, 200, 'another session of the same user still works');
($st) = call(POST => '/api/v1/auth/logout', {}, {});
is($st, 401, 'logout without a token answers 401');
($st) = call(POST => '/api/v1/auth/logout', bearer($other->{token}));
is($st, 204, 'logout without a body answers 204');

# --- routes and methods ----------------------------------------------------------
($st, $h, $body) = call(GET => '/api/v1/auth/login');
is($st, 405, 'GET on login answers 405');
is($body->{error}, 'method_not_allowed', 'as JSON');
like($h->{allow} // '', qr/POST/, 'with Allow');
($st, undef, $body) = call(GET => '/api/v1/auth/nothing-here', bearer($ada->{token}));
is($st, 404, 'an unknown auth route answers 404');
is($body->{error}, 'not_found', 'as JSON');
($st, undef, $body) = call(GET => '/api/v1/auth/health');
is($st, 200, 'auth health answers 200');
is($body->{status}, 'ok', 'auth is healthy');
is($body->{checks}{database}{status}, 'ok', 'database check');
is($body->{checks}{redis}{status}, 'ok', 'redis check');

# --- the OpenAPI document describes these routes ------------------------------
($st, $h, $body) = call(GET => '/api/v1/docs');
is($st, 200, '/api/v1/docs answers 200 without a token');
like($body->{openapi} // '', qr/^3\./, 'an OpenAPI 3 document');
ok($body->{paths}{$_}, "the document describes $_") for qw(/auth/register /auth/login /auth/refresh /auth/logout /auth/verify /auth/me);

# --- failed logins are limited per email ------------------------------------
($st) = call(POST => '/api/v1/auth/register', {}, { email => 'carol@example.org', password => 'carol password', name => 'Carol' });
for (1 .. 10) {
	call(POST => '/api/v1/auth/login', {}, { email => 'carol@example.org', password => 'wrong password' });
}
($st, $h, $body) = call(POST => '/api/v1/auth/login', {}, { email => 'carol@example.org', password => 'carol password' });
is($st, 429, 'after 10 failures even the right password answers 429');
is($body->{error}, 'rate_limited', 'as JSON');
ok(($h->{'retry-after'} // 0) > 0, 'with Retry-After');

# --- the rate limit: the request after the last allowed one gets 429 ----------
my ($remaining, $last_status, $limited) = (undef, 0, undef);
for my $i (1 .. 250) {
	($st, $h, $body) = call(GET => '/api/v1/auth/me', bearer($ada->{token}));
	if ($st == 429) { $limited = [$st, $h, $body]; last }
	$remaining = $h->{'x-ratelimit-remaining'};
}
ok($limited, 'the user is limited within the window');
is($remaining, 0, 'the request before the refusal had 0 remaining');
if ($limited) {
	my ($lst, $lh, $lbody) = @$limited;
	is($lbody->{error}, 'rate_limited', '429 has the JSON error');
	ok(($lh->{'retry-after'} // 0) > 0 && $lh->{'retry-after'} <= 60, 'Retry-After within the window');
	is($lh->{'x-ratelimit-limit'}, 100, 'X-RateLimit-Limit on the 429');
	is($lh->{'x-ratelimit-remaining'}, 0, 'X-RateLimit-Remaining 0 on the 429');
	ok(($lh->{'x-ratelimit-reset'} // 0) >= time, 'X-RateLimit-Reset on the 429');
}
($st) = call(GET => '/api/v1/auth/me', bearer($bob->{token}));
is($st, 200, 'another user is not limited');

done_testing();
