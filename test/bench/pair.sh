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

# timed CMD: runs CMD (a word-split string) and sets took to its wall time
# in µs, read from bash's clock (no date process inside the interval).
timed() {
	local t0=${EPOCHREALTIME/./}
	$1 >/dev/null 2>"$err" || { tail -1 "$err" >&2; exit 1; }
	took=$((${EPOCHREALTIME/./} - t0))
	[ -z "$clean" ] || [ "$1" != "$b" ] || $clean >/dev/null 2>&1 || true
}

# One untimed run of each first: the first run after a pause may read its
# binaries from disk.
timed "$a"
timed "$b"
r=()
for ((i = 0; i < rounds; i++)); do
	timed "$a"; a1=$took
	timed "$b"; b1=$took
	timed "$b"; b2=$took
	timed "$a"; a2=$took
	r+=($(((a1 + a2) * 10000 / (b1 + b2))))
done
printf '%s\n' "${r[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "%.3f\n", v[int((NR + 1) / 2)] / 1e4 }'
