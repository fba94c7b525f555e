#!/usr/bin/env bash
# pair.sh ROUNDS A B [CLEAN]: ROUNDS rounds of A, B, B, A (each command
# word-split and run directly, no shell in between; CLEAN untimed after each
# B), then prints the median over the rounds of A's two times ÷ B's. Run by
# run.sh's pair_ratio, as root or as the bench user (as_user), so that the
# commands are timed as they run, without a wrapper in between. On failure
# it prints the failing command's last line on stderr and exits 1.
set -u
rounds=$1 a=$2 b=$3 clean=${4:-}
err=$(mktemp)
trap 'rm -f "$err"' EXIT
# One untimed run of each first: the first run after a pause may read its
# binaries from disk.
$a >/dev/null 2>"$err" || { tail -1 "$err" >&2; exit 1; }
$b >/dev/null 2>"$err" || { tail -1 "$err" >&2; exit 1; }
[ -z "$clean" ] || $clean >/dev/null 2>&1 || true
r=()
for ((i = 0; i < rounds; i++)); do
	t0=$(date +%s%N)
	$a >/dev/null 2>"$err" || { tail -1 "$err" >&2; exit 1; }
	t1=$(date +%s%N)
	$b >/dev/null 2>"$err" || { tail -1 "$err" >&2; exit 1; }
	t2=$(date +%s%N)
	[ -z "$clean" ] || $clean >/dev/null 2>&1 || true
	t3=$(date +%s%N)
	$b >/dev/null 2>"$err" || { tail -1 "$err" >&2; exit 1; }
	t4=$(date +%s%N)
	[ -z "$clean" ] || $clean >/dev/null 2>&1 || true
	t5=$(date +%s%N)
	$a >/dev/null 2>"$err" || { tail -1 "$err" >&2; exit 1; }
	t6=$(date +%s%N)
	r+=($(( (t1 - t0 + t6 - t5) * 10000 / (t2 - t1 + t4 - t3) )))
done
printf '%s\n' "${r[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "%.3f\n", v[int((NR + 1) / 2)] / 1e4 }'
