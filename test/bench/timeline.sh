#!/usr/bin/env bash
# timeline.sh CMD [ARGS...]: where one command's wall clock goes, across
# every process it starts (skiff, skiff-monitor, the container's init,
# the exit command). It records scheduler and syscall tracepoints with
# perf (Debian's linux-perf; needs root) and prints, in ms from the first
# exec: process execs and exits, mounts, unmounts, pivot_root and fsyncs.
# Runs of the same event by one process are folded into one line with a
# count. Example:
#   test/bench/timeline.sh bin/skiff run --rm --network none busybox true
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 CMD [ARGS...]" >&2; exit 2; }
command -v perf >/dev/null || { echo "timeline.sh needs perf (apt install linux-perf)" >&2; exit 2; }
data=$(mktemp /tmp/skiff-timeline.XXXXXX)
trap 'rm -f "$data"' EXIT
events=sched:sched_process_exec,sched:sched_process_exit
for sc in mount umount pivot_root fsync fdatasync; do
	events+=",syscalls:sys_enter_$sc"
done
perf record -q -o "$data" -e "$events" -a -- "$@" >/dev/null 2>&1
perf script -i "$data" -F comm,pid,time,event 2>/dev/null |
	awk '$1 != "perf" && !/perf-exec/ {
		t = $3 + 0; if (t0 == "") t0 = t
		ev = $NF; sub(/:$/, "", ev); sub(/^[a-z]+:(sys_enter_|sched_process_)?/, "", ev)
		key = $2 " " ev
		if (key == last) { n++; next }
		if (last != "") printf "%7.1f ms  %-16s %6s  %s%s\n", start, comm, pid, what, (n > 1 ? " ×" n : "")
		last = key; n = 1; start = (t - t0) * 1000; comm = $1; pid = $2; what = ev
	}
	END { if (last != "") printf "%7.1f ms  %-16s %6s  %s%s\n", start, comm, pid, what, (n > 1 ? " ×" n : "") }'
