#!/usr/bin/perl
# What wss.pl-style tools do for one measurement: clear_refs 1, wait, read and parse the whole smaps.
# Usage: wss_pl_style.pl PID INTERVAL_S ; prints "clear_ms=.. read_ms=.. wss_kb=.."
use strict;
use warnings;
use Time::HiRes qw(time sleep);
my ($pid, $interval) = @ARGV;
my $t0 = time;
open(my $c, '>', "/proc/$pid/clear_refs") or die "clear_refs: $!";
print $c "1";
close($c) or die "clear_refs: $!";
my $t1 = time;
sleep($interval);
my $t2 = time;
open(my $s, '<', "/proc/$pid/smaps") or die "smaps: $!";
my $ref = 0;
while (my $line = <$s>) {
	if ($line =~ /^Referenced:\s+(\d+) kB/) {
		$ref += $1;
	}
}
close($s);
my $t3 = time;
printf("clear_ms=%.2f read_ms=%.2f wss_kb=%d\n", ($t1 - $t0) * 1e3, ($t3 - $t2) * 1e3, $ref);
