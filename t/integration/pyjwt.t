# Cross-checks tokens and password hashes with independent implementations:
# PyJWT (Debian python3-jwt) must verify our tokens and make tokens that we
# accept or refuse exactly as the contract says; Python's hashlib.scrypt
# must agree with our password encoding both ways.
use strict;
use warnings;
use Test::More;

use Lectern::Test qw(prerequisite);

my $builddir = $ENV{LECTERN_BUILDDIR} // '.';
my $tool = "$builddir/t/token-tool";
my $python = '/usr/bin/python3';

prerequisite(-x $tool, "$tool not built");
prerequisite(-x $python, "$python not found (Debian package python3)");
{
	local $ENV{PYTHONPATH};
	prerequisite(system($python, '-c', 'import jwt') == 0, 'PyJWT missing (Debian package python3-jwt)');
}

my $iss = 'lectern';
my $aud = 'lectern-api';
my %key = (
	k2 => 'k2-secret-0123456789abcdef0123456789ABCD',
	k1 => 'k1-secret-0123456789abcdef0123456789ABCD',
);
my $ring = "k2 $key{k2}\nk1 $key{k1}\n";
$ENV{LECTERN_JWT_KEYS} = $ring;
my $now = time;

# Runs a command (no shell) and returns (exit code, first line of stdout).
sub run {
	my @cmd = @_;
	open(my $fh, '-|', @cmd) or die "cannot run $cmd[0]: $!";
	my $out = do { local $/; <$fh> } // '';
	close($fh);
	my $rc = $? >> 8;
	chomp $out;
	return ($rc, $out);
}

my $py_verify = <<'PY';
import os, sys, jwt
keys = dict(l.split() for l in os.environ["LECTERN_JWT_KEYS"].splitlines() if l.strip())
token, iss, aud = sys.argv[1:4]
try:
    kid = jwt.get_unverified_header(token)["kid"]
    c = jwt.decode(token, keys[kid], algorithms=["HS256"], audience=aud, issuer=iss,
                   options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]})
    print("ok", c["sub"], c["user_id"], c["email"], c["name"], c["role"], c["exp"] - c["iat"])
except jwt.ExpiredSignatureError:
    print("expired")
except jwt.InvalidAudienceError:
    print("bad audience")
except jwt.InvalidIssuerError:
    print("bad issuer")
except jwt.InvalidSignatureError:
    print("bad signature")
PY

my $py_issue = <<'PY';
import json, os, sys, jwt
payload, alg, headers = json.loads(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
key = os.environ.get("SIGNING_KEY") if alg != "none" else None
print(jwt.encode(payload, key, algorithm=alg, headers=headers))
PY

# --- our tokens, verified by PyJWT -----------------------------------------
my ($rc, $token) = run($tool, 'issue', $now, 600, 'u-1', 'ann@example.org', 'Ann', 'learner', $iss, $aud);
is($rc, 0, 'token-tool issues a token');
my ($prc, $out) = run($python, '-c', $py_verify, $token, $iss, $aud);
is($out, 'ok u-1 u-1 ann@example.org Ann learner 600', 'PyJWT verifies our token (HS256, iss, aud, exp)');

($rc, $token) = run($tool, 'issue', $now - 7200, 3600, 'u-1', 'ann@example.org', 'Ann', 'learner', $iss, $aud);
(undef, $out) = run($python, '-c', $py_verify, $token, $iss, $aud);
is($out, 'expired', 'PyJWT sees our expired token as expired');
(undef, $out) = run($tool, 'verify', $now, $iss, $aud, $token);
like($out, qr/^refused expired:/, 'and so do we');

($rc, $token) = run($tool, 'issue', $now, 600, 'u-1', 'ann@example.org', 'Ann', 'learner', $iss, 'other-api');
(undef, $out) = run($python, '-c', $py_verify, $token, $iss, $aud);
is($out, 'bad audience', 'PyJWT refuses our token for another audience');
($rc, $token) = run($tool, 'issue', $now, 600, 'u-1', 'ann@example.org', 'Ann', 'learner', 'evil', $aud);
(undef, $out) = run($python, '-c', $py_verify, $token, $iss, $aud);
is($out, 'bad issuer', 'PyJWT refuses our token from another issuer');

{
	# Signed by k2; PyJWT told k2's secret is k1's must fail.
	local $ENV{LECTERN_JWT_KEYS} = "k2 $key{k1}\n";
	($rc, $token) = run($tool, 'issue', $now, 600, 'u-1', 'a@b.c', '-', 'learner', $iss, $aud);
	is($rc, 0, 'issue with a one-key ring');
	local $ENV{LECTERN_JWT_KEYS} = "k2 $key{k2}\n";
	(undef, $out) = run($python, '-c', $py_verify, $token, $iss, $aud);
	is($out, 'bad signature', 'PyJWT refuses our token under another secret');
}

# --- PyJWT's tokens, verified by us -----------------------------------------
sub claims {
	my (%over) = @_;
	my %c = (sub => 'u-2', user_id => 'u-2', email => 'bob@example.org', name => 'Bob',
		role => 'learner', jti => 'py-jti-1', iss => $iss, aud => $aud,
		iat => $now, nbf => $now, exp => $now + 600, %over);
	delete $c{$_} for grep { !defined $c{$_} } keys %c;
	my $json = JSON::PP->new->canonical;
	return $json->encode(\%c);
}
require JSON::PP;

my @cases = (
	# name, claims json, alg, headers json, signing key, expected output of token-tool verify
	['HS256 with kid k1', claims(), 'HS256', '{"kid":"k1"}', $key{k1}, qr/^ok u-2 bob\@example\.org learner py-jti-1 \d+$/],
	['HS256 with kid k2', claims(), 'HS256', '{"kid":"k2"}', $key{k2}, qr/^ok u-2 /],
	['HS256 without a name', claims(name => undef), 'HS256', '{"kid":"k1"}', $key{k1}, qr/^ok u-2 /],
	['HS256 without kid', claims(), 'HS256', '{}', $key{k2}, qr/^refused invalid: missing kid$/],
	['HS256 with an unknown kid', claims(), 'HS256', '{"kid":"k3"}', $key{k1}, qr/^refused invalid: unknown kid$/],
	['HS256 under the wrong secret', claims(), 'HS256', '{"kid":"k1"}', $key{k2}, qr/^refused invalid: bad signature$/],
	['HS512 with the right secret', claims(), 'HS512', '{"kid":"k1"}', $key{k1}, qr/^refused invalid:/],
	['HS384 with the right secret', claims(), 'HS384', '{"kid":"k1"}', $key{k1}, qr/^refused invalid:/],
	['alg none', claims(), 'none', '{"kid":"k1"}', '', qr/^refused invalid:/],
	['expired', claims(iat => $now - 7200, nbf => $now - 7200, exp => $now - 3600), 'HS256', '{"kid":"k1"}', $key{k1}, qr/^refused expired: expired$/],
	['not yet valid', claims(nbf => $now + 3600, exp => $now + 7200), 'HS256', '{"kid":"k1"}', $key{k1}, qr/^refused invalid: not yet valid$/],
	['without exp', claims(exp => undef), 'HS256', '{"kid":"k1"}', $key{k1}, qr/^refused invalid:/],
	['exp as a string', claims(exp => "" . ($now + 600)), 'HS256', '{"kid":"k1"}', $key{k1}, qr/^refused invalid:/],
	['wrong audience', claims(aud => 'other'), 'HS256', '{"kid":"k1"}', $key{k1}, qr/^refused invalid: wrong audience$/],
	['wrong issuer', claims(iss => 'other'), 'HS256', '{"kid":"k1"}', $key{k1}, qr/^refused invalid: wrong issuer$/],
	['a role forged into user_id', claims(user_id => 'admin'), 'HS256', '{"kid":"k1"}', $key{k1}, qr/^refused invalid: user_id differs from sub$/],
);
for my $c (@cases) {
	my ($name, $claims, $alg, $headers, $signing, $want) = @$c;
	local $ENV{SIGNING_KEY} = $signing;
	my ($erc, $pytoken) = run($python, '-c', $py_issue, $claims, $alg, $headers);
	if ($erc != 0 || $pytoken !~ /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/) {
		fail("PyJWT makes a token: $name");
		next;
	}
	my ($vrc, $verdict) = run($tool, 'verify', $now, $iss, $aud, $pytoken);
	like($verdict, $want, "PyJWT token, $name");
	is($vrc, ($verdict =~ /^ok/ ? 0 : 1), "  exit code fits");
}

# --- password hashes against hashlib.scrypt ----------------------------------
my $py_scrypt = <<'PY';
import base64, hashlib, hmac, sys
def b64(s): return base64.b64decode(s + "=" * (-len(s) % 4), validate=True)
def unb64(b): return base64.b64encode(b).decode().rstrip("=")
if sys.argv[1] == "check":
    password, enc = sys.argv[2], sys.argv[3]
    _, scheme, params, salt, want = enc.split("$")
    p = dict(kv.split("=") for kv in params.split(","))
    n, r, par = 2 ** int(p["ln"]), int(p["r"]), int(p["p"])
    got = hashlib.scrypt(password.encode(), salt=b64(salt), n=n, r=r, p=par,
                         maxmem=256 * 1024 * 1024, dklen=32)
    print("match" if scheme == "scrypt" and hmac.compare_digest(got, b64(want)) else "no match")
else:
    password, ln = sys.argv[2], int(sys.argv[3])
    salt = bytes(range(16))
    h = hashlib.scrypt(password.encode(), salt=salt, n=2 ** ln, r=8, p=1, maxmem=256 * 1024 * 1024, dklen=32)
    print("$scrypt$ln=%d,r=8,p=1$%s$%s" % (ln, unb64(salt), unb64(h)))
PY

my $pw = "p\x{e4}ss w\x{f6}rd";
utf8::encode($pw);
for my $ln (10, 15) {
	my ($hrc, $enc) = run($tool, 'password-hash', $ln, $pw);
	is($hrc, 0, "token-tool hashes a password at ln=$ln");
	(undef, $out) = run($python, '-c', $py_scrypt, 'check', $pw, $enc);
	is($out, 'match', "  hashlib.scrypt agrees with our hash at ln=$ln");
	(undef, $out) = run($python, '-c', $py_scrypt, 'check', 'other', $enc);
	is($out, 'no match', '  and not for another password');

	my (undef, $pyenc) = run($python, '-c', $py_scrypt, 'make', $pw, $ln);
	my ($mrc, $m) = run($tool, 'password-verify', $pw, $pyenc);
	is($m, 'match', "  we verify hashlib.scrypt's hash at ln=$ln");
	($mrc, $m) = run($tool, 'password-verify', 'other', $pyenc);
	is($m, 'no match', '  and refuse another password against it');
}

done_testing();
