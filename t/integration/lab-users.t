# lab-users: nothing of the lab runs as root. Every process of a started
# stack (each program's pid file and all its descendants: pools, their
# workers, the gate, the worker, the broker, Redis, Postgres, nginx's
# workers) has real, effective, saved and filesystem uids other than 0.
# Only nginx's master may be root (it binds, reads the TLS key and hands
# the work to its unprivileged workers).
use strict;
use warnings;
use Test::More;
use Lectern::Test qw(start_stack);

my $stack = start_stack();
my $dir = $stack->dir;

# Wake every part once (a pool's workers, the gate).
my ($st, $session) = $stack->register('users-test@example.com', 'quiet lantern orchard', 'U');
is($st, 201, 'a user registers');
$stack->request(GET => '/api/v1/auth/me', { Authorization => "Bearer $session->{token}" });

sub first_line {
	my ($file) = @_;
	open(my $fh, '<', $file) or return undef;
	my $line = <$fh>;
	return undef unless defined $line;
	my ($n) = $line =~ /^\s*(\d+)/;
	return $n;
}

sub uids {
	my ($pid) = @_;
	open(my $fh, '<', "/proc/$pid/status") or return undef;
	while (<$fh>) {
		return [ split ' ', $1 ] if /^Uid:\s+(.*)$/;
	}
	return undef;
}

sub comm {
	my ($pid) = @_;
	open(my $fh, '<', "/proc/$pid/comm") or return '?';
	my $c = <$fh> // '?';
	chomp $c;
	return $c;
}

# Every process and its parent, once.
my %parent;
opendir(my $proc, '/proc') or die "/proc: $!";
for my $pid (grep { /^\d+$/ } readdir $proc) {
	open(my $fh, '<', "/proc/$pid/stat") or next;
	my $stat = <$fh> // next;
	my ($ppid) = $stat =~ /\)\s+\S+\s+(\d+)/ or next;
	$parent{$pid} = $ppid;
}
closedir $proc;

my %roots = (
	nginx    => first_line("$dir/nginx/nginx.pid"),
	redis    => first_line("$dir/redis/redis.pid"),
	postgres => first_line("$dir/postgres/data/postmaster.pid"),
	broker   => first_line("$dir/run/broker.pid"),
	gate     => first_line("$dir/run/gate.pid"),
);
for my $f (glob("$dir/run/*.pid")) {
	my ($name) = $f =~ m{/([^/]+)\.pid$};
	$roots{$name} //= first_line($f);
}
for my $name (qw(nginx redis postgres broker gate auth documents documents-worker)) {
	ok(defined $roots{$name} && -d "/proc/$roots{$name}", "$name is running");
}

my $nginx_master = $roots{nginx} // -1;
my $checked = 0;
for my $name (sort keys %roots) {
	my $root = $roots{$name} // next;
	my @all = ($root);
	my %seen = ($root => 1);
	for (my $i = 0; $i < @all; $i++) {
		for my $pid (keys %parent) {
			next if $seen{$pid} || $parent{$pid} != $all[$i];
			$seen{$pid} = 1;
			push @all, $pid;
		}
	}
	for my $pid (@all) {
		my $u = uids($pid) or next;    # gone meanwhile
		next if $pid == $nginx_master;
		$checked++;
		ok(!grep({ $_ == 0 } @$u), "$name: pid $pid (" . comm($pid) . ") runs as uid @$u, not root");
	}
}
cmp_ok($checked, '>=', 10, "every process of the lab was looked at ($checked)");

# When the lab is started by root, the programs run as the lab's own user,
# not as nobody (which nginx's workers are).
{
	my $u = uids($roots{auth} // 0);
	if ($> == 0) {
		my $lectern = getpwnam('lectern');
		ok(defined $lectern, 'the lab made its user');
		is($u && $u->[0], $lectern, 'the auth pool runs as that user');
	} else {
		is($u && $u->[0], $<, 'the auth pool runs as the user who started the lab');
	}
}

done_testing();
