# docs/openapi.json: a valid OpenAPI 3 document that describes every route
# there is. The routes are read from the sources, never from a list kept here:
# nginx's locations (nginx/*.in, nginx/snippets/*.in), each service's route
# table as its program prints it (lectern-NAME --print-routes, for every
# folder of fcgi/), and the call tables of docs/api.md. Each must be in the
# document with its method; each operation of the document must be served by
# some route (no stale entries).
use strict;
use warnings;

use JSON::PP;
use Test::More;

use Lectern::Test qw(src_dir build_dir prerequisite);

my $src = src_dir();
my $build = build_dir();
my $api_base = '/api/v1';

sub slurp {
	my ($path) = @_;
	open(my $fh, '<', $path) or die "open $path: $!";
	local $/;
	return scalar <$fh>;
}

my $doc = eval { JSON::PP->new->decode(slurp("$src/docs/openapi.json")) };
ok($doc, 'docs/openapi.json is JSON') or BAIL_OUT("not JSON: $@");

# --- The structure of an OpenAPI 3 document ----------------------------------

my @problems;
sub problem { push @problems, join('', @_) }

like($doc->{openapi} // '', qr/^3\.\d+\.\d+$/, 'openapi: 3.x.y');
ok(ref $doc->{info} eq 'HASH' && ($doc->{info}{title} // '') ne '' && ($doc->{info}{version} // '') ne '',
	'info has a title and a version');
is(ref $doc->{paths}, 'HASH', 'paths is an object');
is(($doc->{servers} // [])->[0]{url}, $api_base, "the server is $api_base");

my %methods = map { $_ => 1 } qw(get put post delete options head patch trace);
my %item_keys = (%methods, map { $_ => 1 } qw(summary description servers parameters $ref));
my %param_in = map { $_ => 1 } qw(query header path cookie);
my %types = map { $_ => 1 } qw(string number integer boolean array object);
my %operation_ids;

# resolve(POINTER): the node a local $ref names, or undef.
sub resolve {
	my ($ref) = @_;
	return undef unless $ref =~ m{^#/(.*)$};
	my $node = $doc;
	for my $part (split m{/}, $1) {
		$part =~ s/~1/\//g;
		$part =~ s/~0/~/g;
		return undef unless ref $node eq 'HASH' && exists $node->{$part};
		$node = $node->{$part};
	}
	return $node;
}

# Every $ref anywhere resolves; every schema type is one of JSON Schema's.
sub walk {
	my ($node, $where) = @_;
	if (ref $node eq 'HASH') {
		if (exists $node->{'$ref'} && !ref $node->{'$ref'}) {
			problem("$where: \$ref $node->{'$ref'} does not resolve") unless defined resolve($node->{'$ref'});
		}
		if (exists $node->{type} && !ref $node->{type} && $where =~ /schema/i) {
			problem("$where: unknown type $node->{type}") unless $types{ $node->{type} };
		}
		walk($node->{$_}, "$where/$_") for sort keys %$node;
	} elsif (ref $node eq 'ARRAY') {
		walk($node->[$_], "$where/$_") for 0 .. $#$node;
	}
}
walk($doc, '#');

sub check_parameters {
	my ($list, $where) = @_;
	return () unless defined $list;
	if (ref $list ne 'ARRAY') { problem("$where: parameters is not an array"); return () }
	my @path;
	for my $p (@$list) {
		$p = resolve($p->{'$ref'}) // {} if ref $p eq 'HASH' && $p->{'$ref'};
		if (ref $p ne 'HASH' || !defined $p->{name} || !$param_in{ $p->{in} // '' }) {
			problem("$where: a parameter without name or a valid in");
			next;
		}
		problem("$where: parameter $p->{name} has neither schema nor content")
			unless $p->{schema} || $p->{content};
		if ($p->{in} eq 'path') {
			problem("$where: path parameter $p->{name} is not required") unless $p->{required};
			push @path, $p->{name};
		}
	}
	return @path;
}

for my $path (sort keys %{ $doc->{paths} }) {
	my $item = $doc->{paths}{$path};
	problem("$path: does not start with /") unless $path =~ m{^/};
	if (ref $item ne 'HASH') { problem("$path: not an object"); next }
	for my $k (keys %$item) { problem("$path: unknown key $k") unless $item_keys{$k} }
	my @common = check_parameters($item->{parameters}, $path);
	my @template = $path =~ /\{([^}]+)\}/g;
	my @ops = grep { $methods{$_} } sort keys %$item;
	problem("$path: no operation") unless @ops;
	for my $m (@ops) {
		my $op = $item->{$m};
		my $where = "$m $path";
		if (ref $op ne 'HASH') { problem("$where: not an object"); next }
		if (defined(my $id = $op->{operationId})) {
			problem("$where: operationId $id used twice") if $operation_ids{$id}++;
		}
		my %declared = map { $_ => 1 } @common, check_parameters($op->{parameters}, $where);
		for my $t (@template) { problem("$where: {$t} has no path parameter") unless $declared{$t} }
		my %in_template = map { $_ => 1 } @template;
		for my $d (keys %declared) { problem("$where: path parameter $d is not in the path") unless $in_template{$d} }
		my $responses = $op->{responses};
		if (ref $responses ne 'HASH' || !%$responses) { problem("$where: no responses"); next }
		for my $code (sort keys %$responses) {
			problem("$where: response key $code") unless $code =~ /^(?:[1-5]\d\d|[1-5]XX|default)$/;
			my $r = $responses->{$code};
			$r = resolve($r->{'$ref'}) // {} if ref $r eq 'HASH' && $r->{'$ref'};
			problem("$where $code: no description") unless ref $r eq 'HASH' && defined $r->{description};
		}
		if (my $body = $op->{requestBody}) {
			problem("$where: requestBody without content") unless ref $body eq 'HASH' && ref $body->{content} eq 'HASH' && %{ $body->{content} };
		}
		problem("$where: security names an unknown scheme")
			if grep { !$doc->{components}{securitySchemes}{$_} } map { keys %$_ } @{ $op->{security} // [] };
	}
}
ok(!@problems, 'the document is well-formed OpenAPI 3 (refs resolve, parameters, responses)')
	or diag(join("\n", @problems));

# --- What the document describes -------------------------------------------

# key(PATH): the full URL path of a document path, parameters unnamed.
my %described;    # "GET /api/v1/x/{}" -> 1
my %described_paths;
for my $path (keys %{ $doc->{paths} }) {
	my $item = $doc->{paths}{$path};
	my $server = ref $item->{servers} eq 'ARRAY' && @{ $item->{servers} } ? $item->{servers}[0]{url} : $api_base;
	$server = '' if $server eq '/';
	(my $full = "$server$path") =~ s/\{[^}]+\}/{}/g;
	$described_paths{$full} = 1;
	$described{ uc($_) . " $full" } = 1 for grep { $methods{$_} } keys %$item;
}

sub norm {
	my ($path) = @_;
	$path =~ s/\{[^}]+\}/{}/g;
	$path =~ s{(.)/$}{$1};
	return $path;
}

# --- nginx's locations -------------------------------------------------------

# locations(TEXT): [path, exact?] for each public location of an nginx file.
# A regular expression is read as the few forms the config uses: ^, an
# optional group (taken), alternatives (each), a tail of /?$ or $ (one path)
# or (?:/|$) (a prefix). Anything else is reported, so that a new form is
# looked at rather than silently passed.
sub locations {
	my ($text, $file) = @_;
	my @out;
	while ($text =~ /^\s*location\s+(?:(=|~\*?|\^~)\s+)?(\S+)\s*\{/mg) {
		my ($mod, $loc) = ($1 // '', $2);
		next if $loc eq '/' || $loc =~ m{(?:^|/)_};    # the catch-all and internal locations
		if ($mod ne '~' && $mod ne '~*') {
			push @out, [ $loc, $mod eq '=' ];
			next;
		}
		my $re = $loc;
		$re =~ s/^\^// or problem("$file: location $loc is not anchored");
		my $exact = 1;
		if ($re =~ s/\(\?:\/\|\$\)$//) { $exact = 0 }
		elsif ($re =~ s/\/\?\$$// || $re =~ s/\$$//) { $exact = 1 }
		else { $exact = 0 }
		$re =~ s/\(\?:([^()|]*)\)\?/$1/g;
		my @paths = ($re);
		while (grep { /\(\?:/ } @paths) {
			@paths = map {
				/^(.*?)\(\?:([^()]*)\)(.*)$/ ? do { my ($a, $alts, $z) = ($1, $2, $3); map { "$a$_$z" } split /\|/, $alts } : $_
			} @paths;
		}
		for my $p (@paths) {
			if ($p =~ /[\\^\$*+?()\[\]|{}]/) { problem("$file: cannot read location $loc"); next }
			push @out, [ $p, $exact ];
		}
	}
	return @out;
}

@problems = ();
my @nginx;
# The web app's snippet serves its files (web/), not the API.
for my $file (glob("$src/nginx/*.in"), grep({ !m{/web\.conf\.in$} } glob("$src/nginx/snippets/*.in")),
	glob("$src/nginx/services.d/*.conf")) {
	push @nginx, locations(slurp($file), $file =~ s{^\Q$src\E/}{}r);
}
ok(@nginx >= 10, scalar(@nginx) . ' nginx locations read') or diag(join("\n", @problems));
ok(!@problems, 'every nginx location could be read') or diag(join("\n", @problems));
my @missing;
for my $l (@nginx) {
	my ($path, $exact) = @$l;
	my $n = norm($path);
	my $found = $exact ? $described_paths{$n} : grep { $_ eq $n || index($_, "$n/") == 0 } keys %described_paths;
	push @missing, ($exact ? '= ' : '~ ') . $path unless $found;
}
ok(!@missing, 'every nginx location is in the document') or diag("missing: @missing");

# --- The services' route tables ----------------------------------------------

my @services = map { m{/fcgi/([a-z]+)$} ? $1 : () } glob("$src/fcgi/*");
ok(@services >= 6, "services: @services");
my (%served, @unrun);
for my $svc (@services) {
	my $prog = "$build/lectern-$svc";
	if (!-x $prog) { push @unrun, $prog; next }
	my @lines = `'$prog' --print-routes 2>/dev/null`;
	push @unrun, "$prog (exit $?)" if $?;
	for (@lines) {
		chomp;
		my ($m, $p) = split / /, $_, 2;
		# A route under each prefix of its service: only the public spelling
		# (/api/v1/... once) is the API; /auth/... aliases and a route with its
		# whole path under the bare prefix "" have one.
		next unless defined $p && $p =~ m{^\Q$api_base\E/} && $p !~ m{\Q$api_base\E/.*\Q$api_base\E/};
		$served{"$m " . norm($p)} = "lectern-$svc";
	}
}
ok(!@unrun, 'every service prints its routes') or diag("not run: @unrun");
ok(keys %served >= 30, scalar(keys %served) . ' routes in the route tables');
@missing = grep { !$described{$_} } sort keys %served;
ok(!@missing, 'every route of every route table is in the document') or diag("missing:\n" . join("\n", @missing));

# --- docs/api.md ---------------------------------------------------------------

my ($base, %api_md);
for my $line (split /\n/, slurp("$src/docs/api.md")) {
	if ($line =~ /^#{2,3}\s.*\(`(\/[^`]+)`/) { $base = $1; next }
	$base = undef if $line =~ /^##\s/ && $line !~ /\(`\//;
	next unless $base && $line =~ /^\|\s*`[A-Z]+ \//;
	my ($cell) = $line =~ /^\|([^|]*)\|/;
	while ($cell =~ /`([A-Z]+) (\/[^`]*)`/g) {
		my ($m, $p) = ($1, $2);
		$p =~ s/\?.*//;    # a query shown with the call
		$api_md{"$m " . norm($p eq '/' ? $base : "$base$p")} = 1;
	}
}
ok(keys %api_md >= 30, scalar(keys %api_md) . ' calls in the tables of docs/api.md');
@missing = grep { !$described{$_} } sort keys %api_md;
ok(!@missing, 'every call of docs/api.md is in the document') or diag("missing:\n" . join("\n", @missing));

# --- Nothing stale --------------------------------------------------------------

my %nginx_exact = map { norm($_->[0]) => 1 } grep { $_->[1] } @nginx;
my @stale = grep {
	my ($m, $p) = split / /, $_, 2;
	!$served{$_} && !($m eq 'GET' && $nginx_exact{$p})
} sort keys %described;
ok(!@stale, 'every operation of the document is served (a route table entry, or nginx itself)')
	or diag("not served:\n" . join("\n", @stale));

done_testing();
