#!/usr/bin/env bash
# make bench: skiff beside podman, docker and a bare `runc run` of a ready
# bundle, on this machine, in one run, with hyperfine. A benchmark, not a
# test: it prints figures, writes them with a summary of medians and ratios
# to $OUT (default bin/bench.md), and fails only when it cannot set up or a
# skiff command it measures fails. An engine that is missing or cannot run
# here is skipped with one line that says why.
#
# Needs root, hyperfine, jq, curl, python3, Debian's docker-registry, runc,
# podman and docker.io (`make bench` installs what is missing; the project's
# tests need none of podman, docker or hyperfine).
#
#   RUNS=N       timed runs of each figure (default 10, after one warm-up run)
#   PULL_RUNS=N  runs of the 250 MB pull (default 5)
#   PS_N=N       containers each engine holds for `ps -a` (default 1000)
#   OUT=FILE     the report (default bin/bench.md), written at the end
#   ONLY=PARTS   only these parts, space- or comma-separated, of: pull run
#                create exec stats memory api ps rootless cp network commit events health (default: all).
#                ONLY=network RUNS=3 is the quick check of the networking part
#   IPERF_TIME=S seconds of each iperf3 figure, each way (default 10)
#   CP_RUNS=N    runs of each cp figure (default 3; each moves 1 GiB), see cp.sh
#   BASELINE=REV the build the rootless part compares skiff with, side by
#                side: issue 7's "no slower than before" (default c42dfdb,
#                the last commit before that issue; empty: none)
#   PODMAN_CONF  containers.conf for podman; default: shared/podman-containers.conf
#                next to the repository, else /work/shared/podman-containers.conf
#
# Everything lives in one temporary directory: skiff's, podman's and docker's
# stores and run roots, a private containerd and dockerd (which listens on a
# unix socket there and nowhere else, with no bridge, no iptables, no
# forwarding), runc's state and the rootless user's home. Every container
# runs with --network none (runc: a network namespace with only loopback),
# except in the networking part (network.sh, next to this script), whose
# engines, servers and clients all run in network namespaces the bench
# makes, with only loopback and a veth pair between two of their own ends.
# The EXIT trap removes the containers (podman's all of them), stops dockerd and
# containerd, kills what is left of the processes naming the directory and
# of the bench user's (by their environment and pid files, never by user:
# another session may run as the same user), unmounts and deletes the
# directory. /var/lib/docker, the host's network and iptables are never
# touched.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
RUNS=${RUNS:-10}
PULL_RUNS=${PULL_RUNS:-5}
PS_N=${PS_N:-1000}
OUT=${OUT:-$ROOT/bin/bench.md}
IPERF_TIME=${IPERF_TIME:-10}
BASELINE=${BASELINE-c42dfdb}
PARTS="pull run create exec stats memory api ps rootless cp network commit events health"
ONLY=${ONLY:-}
ONLY=${ONLY//,/ }
for p in $ONLY; do
	case " $PARTS " in *" $p "*) ;; *) echo "make bench: ONLY: unknown part $p (parts: $PARTS)" >&2; exit 2 ;; esac
done
# part NAME...: whether one of the parts is to be measured.
part() {
	local p
	[ -z "$ONLY" ] && return 0
	for p in "$@"; do case " $ONLY " in *" $p "*) return 0 ;; esac; done
	return 1
}
if [ "$(id -u)" != 0 ]; then
	echo "make bench: run as root (it runs rootful containers and a private dockerd)" >&2
	exit 2
fi
tools="hyperfine jq curl python3 setpriv"
part pull && tools+=" docker-registry"
part network && tools+=" iperf3 nsenter unshare ip"
for t in $tools; do
	command -v "$t" >/dev/null || { echo "make bench: $t is missing (make bench installs it: make bench-deps)" >&2; exit 2; }
done

B=$(mktemp -d /tmp/skiff-bench.XXXXXX)
chmod 755 "$B"
J=$B/json    # hyperfine's JSON, one file per figure and engine
LOG=$B/report.md
mkdir "$J"
cp "$ROOT/test/bench/pair.sh" "$B/"  # where the bench user can read it
SKIFF=$ROOT/bin/skiff
# as_read_from_disk FILE...: drops the files from the page cache and reads
# them back, so that a binary runs as it does once installed or after a
# reboot. As the linker leaves it (GNU ld, through cgo, writes skiff in
# small pieces), a binary sits in the page cache in 4 KiB folios, and
# every exec then maps and unmaps it page by page: about 1 ms of CPU per
# run --rm, against large folios read ahead from disk or written by a
# copy (make install, a package). The packaged engines (podman, docker,
# runc) are read from disk already; skiff and the build from before the
# issue both go through this.
as_read_from_disk() {
	local f
	for f in "$@"; do
		[ -f "$f" ] || continue
		dd if="$f" iflag=nocache count=0 status=none 2>/dev/null || true
		cat "$f" >/dev/null
	done
}
as_read_from_disk "$ROOT"/bin/skiff*
# Run roots (skiff's, podman's, runc's state) live on a tmpfs, as /run is on
# the hosts these engines are made for; this machine's /run is on disk,
# where containers/storage's fsyncs of its run-root files cost ~10 ms a
# run that no real host pays. BENCH_RUNROOT_TMPFS=0 keeps them on disk.
RUN=$B
if [ "${BENCH_RUNROOT_TMPFS:-1}" = 1 ]; then
	mkdir "$B/run" && mount -t tmpfs -o mode=755 skiff-bench-run "$B/run" && RUN=$B/run
fi
S="$SKIFF --root $B/s --runroot $RUN/sr"
BUSER=skiff-bench
UHOME=$B/home
BHOME=$B/home-before  # the bench user's home for the BASELINE build
PHOME=$B/home-podman  # rootless podman's in the rootless part (see there)
BSKIFF=""            # the BASELINE build's skiff, once built
RUNC=$(command -v runc || true)
PODMAN=$(command -v podman || true)
DOCKERD=$(command -v dockerd || true)
# The client that comes with Debian's dockerd (a newer one may sit earlier in PATH).
DOCKER=${DOCKER:-/usr/bin/docker}
[ -x "$DOCKER" ] || DOCKER=$(command -v docker || true)
P=""      # podman, rootful, private store; empty when skipped
D=""      # docker client on the private socket; empty when skipped
R=""      # runc with a private state dir; empty when skipped
PR=""     # rootless podman was started: its containers and pause process to clean up
REG_PID="" CTRD_PID="" DOCKERD_PID=""
SKIFF_FAILED=""
NOTES=()  # one line per engine or figure that could not be measured
unset DOCKER_HOST DOCKER_CONTEXT DOCKER_CONFIG CONTAINERS_CONF

# Paths outside $B that the engines create although their stores are
# private: dockerd's plugin dir, the shims' sockets of containerd, runc's
# state dir for podman's containers, podman's blob-info cache, and (a
# safeguard: every podman call here names its own dir) the CNI lock.
# Those absent now are removed at the end, when nothing of ours runs.
HOST_LEFTOVERS=()
for p in /run/docker /run/containerd /run/runc /var/lib/containers /etc/cni/net.d/cni.lock /var/lib/cni; do [ -e "$p" ] || HOST_LEFTOVERS+=("$p"); done
CGROUPS_NEW=()
for p in docker libpod_parent skiff-bench-runc; do
	ls -d /sys/fs/cgroup/*/"$p" /sys/fs/cgroup/"$p" >/dev/null 2>&1 || CGROUPS_NEW+=("$p")
done

# as_user CMD...: CMD as the bench user, with the home UH (default UHOME);
# in the network namespace NETNS when that is set (entered as root, before
# the user's ids are taken).
as_user() {
	local h=${UH:-$UHOME}
	${NETNS:+nsenter --net=$NETNS --} setpriv --reuid="$BUSER" --regid="$BUSER" --init-groups env -i HOME="$h" \
		XDG_RUNTIME_DIR="$h/run" PATH=/usr/bin:/bin:/usr/sbin:/sbin \
		${PODMAN_CONF:+CONTAINERS_CONF=$PODMAN_CONF} "$@"
}

# bench_user [HOME]: the bench user (created if absent, with a subuid
# range) and its home in $B (default UHOME), with the busybox archive.
bench_user() {
	local h=${1:-$UHOME}
	id "$BUSER" >/dev/null 2>&1 || useradd -m -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$BUSER"
	grep -q "^$BUSER:" /etc/subuid || echo "$BUSER:400000:65536" >> /etc/subuid
	grep -q "^$BUSER:" /etc/subgid || echo "$BUSER:400000:65536" >> /etc/subgid
	mkdir -p "$h/run"; chmod 700 "$h/run"; cp "$B/busybox.tar" "$h/"; chown -R "$BUSER:" "$h"
	# The user's XDG_RUNTIME_DIR, where the rootless engines keep their run
	# roots, is a tmpfs like the rootful run roots (as /run/user/UID is on
	# the hosts they are made for); runc's rootless state goes in it too.
	if [ "$RUN" != "$B" ] && ! mountpoint -q "$h/run"; then
		mount -t tmpfs -o "mode=700,uid=$(id -u "$BUSER"),gid=$(id -g "$BUSER")" skiff-bench-urun "$h/run"
	fi
	URUNC=$UHOME/runc
	if [ "$RUN" != "$B" ]; then URUNC=$UHOME/run/runc; fi
}

# kill_named SIGNAL STRING: signals every process whose command line
# contains STRING (a path inside $B: only what this script started).
kill_named() {
	local p pid
	for p in /proc/[0-9]*; do
		pid=${p#/proc/}
		[ "$pid" = $$ ] && continue
		{ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF -- "$2" && kill "-$1" "$pid" 2>/dev/null
	done
	return 0
}

# kill_user SIGNAL: signals the bench user's processes that this script
# started: those with its HOME in their environment (as_user sets it) or
# their working directory in $B, and the pause processes of skiff and
# podman named by their pid files there (they clear their environment).
kill_user() {
	local p pid uid f
	uid=$(id -u "$BUSER" 2>/dev/null) || return 0
	for p in /proc/[0-9]*; do
		pid=${p#/proc/}
		[ "$(stat -c %u "$p" 2>/dev/null)" = "$uid" ] || continue
		if { tr '\0' '\n' <"$p/environ"; } 2>/dev/null | grep -qxF -e "HOME=$UHOME" -e "HOME=$BHOME" -e "HOME=$PHOME" ||
			case $(readlink "$p/cwd" 2>/dev/null) in "$B"/*) true ;; *) false ;; esac; then
			kill "-$1" "$pid" 2>/dev/null
		fi
	done
	for f in "$UHOME/run/skiff/pause.pid" "$UHOME/run/libpod/tmp/pause.pid" "$PHOME/run/libpod/tmp/pause.pid" "$BHOME/run/skiff/pause.pid"; do
		[ -f "$f" ] || continue
		pid=$(cat "$f" 2>/dev/null)
		[ -n "$pid" ] && [ "$(stat -c %u "/proc/$pid" 2>/dev/null)" = "$uid" ] && kill "-$1" "$pid" 2>/dev/null
	done
	return 0
}

cleanup() {
	set +eu
	trap '' INT TERM
	echo "cleaning up $B" >&2
	[ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null
	# Only running containers need stopping; the stores go with $B.
	if [ -x "$SKIFF" ] && [ -d "$B/s" ]; then
		ids=$($S ps -q 2>/dev/null); [ -n "$ids" ] && $S rm -f $ids >/dev/null 2>&1
	fi
	if [ -n "$P" ]; then
		# All of podman's containers, stopped too: each holds one of the
		# host's shared locks (/dev/shm/libpod_lock, 2048 of them), which
		# a store deleted under it never gives back.
		$P rm -a -f -t 0 >/dev/null 2>&1
	fi
	if [ -n "$D" ]; then
		ids=$($D ps -q 2>/dev/null); [ -n "$ids" ] && $D rm -f $ids >/dev/null 2>&1
	fi
	docker_stop "$DOCKERD_PID" "$CTRD_PID"
	if [ -n "$RUNC" ] && [ -d "$RUN/runc" ]; then
		for id in $($RUNC --root "$RUN/runc" list -q 2>/dev/null); do $RUNC --root "$RUN/runc" delete -f "$id" >/dev/null 2>&1; done
	fi
	net_cleanup
	if id "$BUSER" >/dev/null 2>&1 && [ -d "$UHOME" ]; then
		ids=$(as_user "$SKIFF" ps -q 2>/dev/null); [ -n "$ids" ] && as_user "$SKIFF" rm -f $ids >/dev/null 2>&1
		if [ -n "$PR" ]; then
			for h in "$UHOME" "$PHOME"; do
				[ -d "$h" ] || continue
				UH=$h as_user "$PODMAN" rm -a -f -t 0 >/dev/null 2>&1
				UH=$h as_user "$PODMAN" system migrate >/dev/null 2>&1
			done
		fi
		as_user "$SKIFF" system migrate >/dev/null 2>&1
		[ -n "$BSKIFF" ] && UH=$BHOME as_user "$BSKIFF" system migrate >/dev/null 2>&1
		kill_user TERM
		sleep 0.2
		kill_user KILL
	fi
	# Whatever is left: monitors, conmon, shims, and containers whose
	# engine died before it could stop them (by their cgroup).
	kill_named TERM "$B/"
	sleep 0.5
	kill_named KILL "$B/"
	for cg in "${CGROUPS_NEW[@]}"; do
		for d in /sys/fs/cgroup/*/"$cg" /sys/fs/cgroup/"$cg"; do
			[ -d "$d" ] || continue
			find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -9 2>/dev/null
		done
	done
	sleep 0.2
	for cg in "${CGROUPS_NEW[@]}"; do
		for d in /sys/fs/cgroup/*/"$cg" /sys/fs/cgroup/"$cg"; do
			[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
		done
	done
	grep -o " $B/[^ ]*" /proc/mounts | sort -r | uniq | xargs -r -n1 umount -l 2>/dev/null
	rm -rf "$B"
	for p in "${HOST_LEFTOVERS[@]}"; do rm -rf "$p"; done
}
# The networking part: its set-up, figures and clean-up (net_cleanup).
. "$ROOT/test/bench/network.sh"
# The commit part: commit_figures, commit_goals, COMMIT_ROWS.
. "$ROOT/test/bench/commit.sh"
# The cp part: 1 GiB in and out of a running container (cp_figures).
. "$ROOT/test/bench/cp.sh"
# The events part: events_figures, events_goals, EVENTS_ROWS.
. "$ROOT/test/bench/events.sh"
# The healthcheck part: health_figures, health_goals.
. "$ROOT/test/bench/health.sh"
# The Docker API part: api_figures, api_goals, API_ROWS.
. "$ROOT/test/bench/api.sh"
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say() { printf '%s\n' "$*" | tee -a "$LOG"; }
note() { NOTES+=("$*"); say "$*"; }

# measure FIG ENGINE CMD [PREPARE]: times CMD (run directly, no shell) RUNS
# times after WARMUP (default 1) warm-up runs; PREPARE runs untimed before
# each run. The JSON goes to $J/FIG.ENGINE.json. AS is a command prefix
# for hyperfine: with AS=as_user hyperfine itself runs as the bench user (so
# setpriv and env are not timed), with AS="in_ns NAME" in a network
# namespace of the networking part.
measure() {
	local fig=$1 eng=$2 cmd=$3 prep=${4:-} runs=${MRUNS:-$RUNS} warm=${WARMUP:-1}
	local out=$J/$fig.$eng.json
	case ${AS:-} in as_user*) out=$UHOME/h.json ;; esac
	local a=(-N --style none --runs "$runs" --warmup "$warm" --export-json "$out")
	[ -n "$prep" ] && a+=(--prepare "$prep")
	# What the set-up and the previous series wrote goes to the disk first,
	# not under this series' fsyncs (the first series ran right after the
	# docker and podman loads, and paid for their write-back).
	sync
	if ${AS:-} hyperfine "${a[@]}" -n "$eng" "$cmd" >/dev/null 2>"$B/h.err"; then
		[ "$out" = "$J/$fig.$eng.json" ] || cp "$out" "$J/$fig.$eng.json"
		printf '  %-7s %s\n' "$eng" "$(fmt "$(stat_ms "$fig" "$eng" median)")"
	else
		note "$fig: $eng failed: $(grep -v '^\s*$' "$B/h.err" | tail -1)"
		[ "$eng" = skiff ] && SKIFF_FAILED=1
	fi
	return 0
}
# stat_ms FIG ENGINE FIELD: median, mean, stddev, min or max in ms, or nothing.
stat_ms() {
	[ -f "$J/$1.$2.json" ] && jq -r ".results[0].$3 * 1000" "$J/$1.$2.json"
	return 0
}
fmt() { # MS -> "12.3 ms" or "3.21 s"
	[ -n "$1" ] || { echo "—"; return; }
	awk -v v="$1" 'BEGIN{ if (v >= 1000) printf "%.2f s", v/1000; else printf "%.1f ms", v }'
}
ratio() { # A B -> "0.42×" or "—"
	[ -n "$1" ] && [ -n "$2" ] || { echo "—"; return; }
	awk -v a="$1" -v b="$2" 'BEGIN{ printf "%.2f×", a/b }'
}
# value FIG ENGINE: the figure's median in ms; for A-B the difference of
# the medians of A and B in ms; for tp_* the throughput in Gbit/s.
value() {
	local a b
	case $1 in
	tp_*) [ -f "$J/$1.$2.bps" ] && awk '{ printf "%.3f", $1 / 1e9 }' "$J/$1.$2.bps" ;;
	dns_* | netpair_*) [ -f "$J/$1.$2.ms" ] && cat "$J/$1.$2.ms" ;;
	*-*)
		a=$(stat_ms "${1%-*}" "$2" median); b=$(stat_ms "${1#*-}" "$2" median)
		[ -n "$a" ] && [ -n "$b" ] && awk -v a="$a" -v b="$b" 'BEGIN{ printf "%.3f", a - b }' ;;
	*) stat_ms "$1" "$2" median ;;
	esac
	return 0
}
fmtv() { # FIG VALUE: VALUE as value gives it for FIG, with its unit
	[ -n "$2" ] || { echo "—"; return; }
	case $1 in
	tp_*) awk -v v="$2" 'BEGIN{ printf "%.2f Gbit/s", v }' ;;
	dns_*) awk -v v="$2" 'BEGIN{ printf "%.2f ms", v }' ;;
	netpair_*) awk -v v="$2" 'BEGIN{ printf "%+.1f ms", v }' ;;
	*-*) awk -v v="$2" 'BEGIN{ printf "%+.1f ms", v }' ;;
	*) fmt "$2" ;;
	esac
}
# goal LABEL A B LIMIT: "- LABEL: A ÷ B = x× (goal ≤ LIMIT×): met"; with
# GOAL=min the goal is A ÷ B ≥ LIMIT.
goal() {
	if [ -n "$2" ] && [ -n "$3" ]; then
		awk -v l="$1" -v a="$2" -v b="$3" -v g="$4" -v min="${GOAL:-}" 'BEGIN{ r=a/b; ok = (min == "min" ? r >= g : r <= g)
			printf "- %s: %.2f× (goal %s %s×): %s\n", l, r, (min == "min" ? "≥" : "≤"), g, (ok ? "met" : "not met") }'
	else
		echo "- $1: not measured"
	fi
}
# goal_ms LABEL DIFF LIMIT: "- LABEL: +x ms (goal ≤ LIMIT ms): met".
goal_ms() {
	if [ -n "$2" ]; then
		awk -v l="$1" -v d="$2" -v g="$3" 'BEGIN{ printf "- %s: %+.1f ms (goal ≤ %s ms): %s\n", l, d, g, (d <= g ? "met" : "not met") }'
	else
		echo "- $1: not measured"
	fi
}
# pair_ratio FIG A B [CLEAN]: PAIR_ROUNDS (default 20) rounds of A, B, B,
# A by pair.sh (as the bench user with AS=as_user), and the median over the
# rounds of A's two times ÷ B's in $J/FIG.ratio. On a machine whose speed
# drifts, commands timed one right after the other share the drift; two
# separate series do not. The order is ABBA because a command runs slower
# right after another one than after itself (measured here: a bare runc
# run took 28 ms right after a skiff run, 18.5 ms right after a runc run):
# in A-then-B rounds B alone would pay for it, and the ratio would flatter A.
pair_ratio() {
	local fig=$1 a=$2 b=$3 clean=${4:-}
	sync  # as in measure
	if ! ${AS:-} bash "$B/pair.sh" "${PAIR_ROUNDS:-20}" "$a" "$b" "$clean" >"$J/$fig.ratio" 2>"$B/pair.err"; then
		rm -f "$J/$fig.ratio"
		note "$fig: paired rounds failed: $(tail -1 "$B/pair.err")"
		return 0
	fi
	say "Paired rounds (${PAIR_ROUNDS:-20}, each A B B A), median ratio: $(cat "$J/$fig.ratio")×"
	return 0
}
# table FIG ENGINES...: the figure's hyperfine statistics, one row per engine.
table() {
	local fig=$1 e; shift
	say "| engine | median | mean ± σ | min | max |"
	say "|---|---:|---:|---:|---:|"
	for e in "$@"; do
		[ -f "$J/$fig.$e.json" ] || continue
		say "| $e | $(fmt "$(stat_ms "$fig" "$e" median)") | $(fmt "$(stat_ms "$fig" "$e" mean)") ± $(fmt "$(stat_ms "$fig" "$e" stddev)") | $(fmt "$(stat_ms "$fig" "$e" min)") | $(fmt "$(stat_ms "$fig" "$e" max)") |"
	done
	say ""
}
section() { say "## $*"; echo "measuring: $*" >&2; }

# --- fixtures: the busybox image, a 250 MB image in a loopback registry ---
: > "$LOG"
echo "fixtures in $B" >&2
go run ./test/cmd/mkimage -o "$B/busybox.tar" -tag busybox:latest >/dev/null
if part pull; then
	go run ./test/cmd/mkimage -kind layers -size 250M -layers 3 -gzip -o "$B/big.tar" -tag bench/big:latest >/dev/null
	PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	mkdir -p "$B/reg"
	cat > "$B/reg/config.yml" <<YML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $B/reg/data}}
http: {addr: 127.0.0.1:$PORT}
YML
	docker-registry serve "$B/reg/config.yml" >"$B/reg/log" 2>&1 &
	REG_PID=$!
	for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/v2/" >/dev/null && break; sleep 0.1; done
	BIG=127.0.0.1:$PORT/bench/big:latest
	$S load -q -i "$B/big.tar" >/dev/null
	$S push -q --tls-verify=false bench/big:latest "$BIG"
	$S rmi bench/big:latest >/dev/null
fi
$S load -q -i "$B/busybox.tar" >/dev/null

# --- podman: rootful, with the containers.conf that lets it run here ---
CONF_WHERE="PODMAN_CONF=${PODMAN_CONF:-}"
if [ -z "${PODMAN_CONF:-}" ]; then
	CONF_WHERE="$(dirname "$ROOT")/shared/podman-containers.conf"
	[ "$CONF_WHERE" = /work/shared/podman-containers.conf ] || CONF_WHERE="$CONF_WHERE or /work/shared/podman-containers.conf"
	for c in "$(dirname "$ROOT")/shared/podman-containers.conf" /work/shared/podman-containers.conf; do
		[ -f "$c" ] && { PODMAN_CONF=$c; break; }
	done
fi
PODMAN_LINE=""
if [ -z "$PODMAN" ]; then
	PODMAN_LINE="podman: not installed, skipped"
	PODMAN_CONF=""
elif [ -z "${PODMAN_CONF:-}" ] || [ ! -f "$PODMAN_CONF" ]; then
	PODMAN_LINE="podman: skipped, no $CONF_WHERE (podman cannot run containers here without it)"
	PODMAN_CONF=""
else
	export CONTAINERS_CONF=$PODMAN_CONF
	# libpod's tmp dir and the CNI config dir private too (runc's state
	# stays in /run/runc: podman's clean-up command ignores --runtime-flag).
	P="$PODMAN --root $B/p --runroot $RUN/pr --tmpdir $B/pt --network-config-dir $B/pcni"
	mkdir -p "$B/pcni"
	$P load -q -i "$B/busybox.tar" >/dev/null
	if $P run --rm --network none busybox true >"$B/pod.err" 2>&1; then
		PODMAN_LINE="podman: $($PODMAN --version | sed 's/podman version //'), runtime $($P info --format '{{.Host.OCIRuntime.Path}}'), cgroup manager $($P info --format '{{.Host.CgroupManager}}'), CONTAINERS_CONF=$PODMAN_CONF"
	else
		PODMAN_LINE="podman: rootful podman cannot run a container here, skipped: $(tail -1 "$B/pod.err")"
		P=""
	fi
fi

# --- docker: a private containerd and dockerd on a unix socket in $B ---
# docker_start DIR WRAP DOCKERD_FLAGS...: a containerd and a dockerd of
# their own, with state, sockets and logs in DIR, started through WRAP (a
# command prefix that execs, or empty); sets DK_CTRD and DK_PID, and DK_LINE
# to the versions, or DK_ERR to why it did not start.
docker_start() {
	local dir=$1 wrap=$2 dc="$DOCKER --config $1/docker-config -H unix://$1/docker.sock"
	shift 2
	DK_CTRD="" DK_PID="" DK_LINE="" DK_ERR=""
	# Our own containerd, so that neither a system one (/run/containerd) nor
	# the defaults of one dockerd would start (/opt/containerd) are used.
	mkdir -p "$dir/c"
	cat > "$dir/c/config.toml" <<TOML
version = 2
root = "$dir/c/root"
state = "$dir/c/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$dir/c/containerd.sock"
[ttrpc]
  address = ""
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/c/opt"
TOML
	$wrap containerd --config "$dir/c/config.toml" >"$dir/c/log" 2>&1 &
	DK_CTRD=$!
	for _ in $(seq 100); do [ -S "$dir/c/containerd.sock" ] && break; sleep 0.1; done
	# An explicit, empty-ish config file, so /etc/docker/daemon.json (which
	# could add hosts) is not read; 20.10 would otherwise write /etc/docker/key.json.
	case $(dockerd --version) in
	*"version 20."*) echo "{\"deprecated-key-path\": \"$dir/d-key.json\"}" > "$dir/daemon.json" ;;
	*) echo "{}" > "$dir/daemon.json" ;;
	esac
	$wrap dockerd --config-file "$dir/daemon.json" --containerd "$dir/c/containerd.sock" \
		--data-root "$dir/d" --exec-root "$dir/dx" --pidfile "$dir/d.pid" -H "unix://$dir/docker.sock" \
		"$@" >"$dir/dockerd.log" 2>&1 &
	DK_PID=$!
	for _ in $(seq 300); do $dc version >/dev/null 2>&1 && break; kill -0 "$DK_PID" 2>/dev/null || break; sleep 0.1; done
	if ! $dc version >/dev/null 2>&1; then
		DK_ERR="dockerd did not start: $(tail -1 "$dir/dockerd.log")"
	elif $wrap ss -ltnupH 2>/dev/null | grep -qE "pid=($DK_PID|$DK_CTRD),"; then
		echo "make bench: dockerd or containerd listens on a network socket; stopping" >&2
		$wrap ss -ltnupH | grep -E "pid=($DK_PID|$DK_CTRD)," >&2
		exit 1
	else
		DK_LINE="client $($dc version --format '{{.Client.Version}}'), dockerd $($dc version --format '{{.Server.Version}}'), containerd $(containerd --version | awk '{print $3}'), storage $($dc info --format '{{.Driver}}'), cgroup driver $($dc info --format '{{.CgroupDriver}}')"
	fi
}
# docker_stop DOCKERD_PID CONTAINERD_PID: stops them, waiting 10 and 5 s.
docker_stop() {
	local pid n
	for pid in "$1:100" "$2:50"; do
		n=${pid#*:} pid=${pid%:*}
		[ -n "$pid" ] || continue
		kill "$pid" 2>/dev/null
		for _ in $(seq "$n"); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null
	done
	return 0
}
DOCKER_LINE=""
if ! part pull run create exec stats memory api ps events health; then
	:
elif [ -z "$DOCKERD" ] || [ -z "$DOCKER" ] || ! command -v containerd >/dev/null; then
	DOCKER_LINE="docker: dockerd, containerd or the docker client not installed, skipped"
else
	docker_start "$B" "" --bridge=none --iptables=false --ip6tables=false --ip-forward=false \
		--ip-masq=false --userland-proxy=false
	CTRD_PID=$DK_CTRD DOCKERD_PID=$DK_PID
	if [ -n "$DK_ERR" ]; then
		DOCKER_LINE="docker: $DK_ERR, skipped"
	else
		D="$DOCKER --config $B/docker-config -H unix://$B/docker.sock"
		DOCKER_LINE="docker: $DK_LINE"
	fi
fi

# --- bare runc: a bundle of the busybox layer and `runc spec`, adjusted ---
RUNC_LINE=""
mkbundle() { # DIR ARGS_JSON [UID GID]: a bundle of busybox's root filesystem; rootless with UID
	local dir=$1 args=$2 l
	mkdir -p "$dir/rootfs"
	for l in $(tar -xOf "$B/busybox.tar" manifest.json | jq -r '.[0].Layers[]'); do
		tar -xOf "$B/busybox.tar" "$l" | tar -x -C "$dir/rootfs"
	done
	if [ -n "${3:-}" ]; then
		# runc's rootless spec maps the caller's ids and shares the host's
		# network: map the user's instead, and give it a network namespace.
		(cd "$dir" && "$RUNC" spec --rootless)
		jq --argjson a "$args" --argjson u "$3" --argjson g "$4" '.process.terminal=false | .process.args=$a
			| .linux.uidMappings[0].hostID=$u | .linux.gidMappings[0].hostID=$g
			| .linux.namespaces += [{"type":"network"}]' "$dir/config.json" > "$dir/c.json"
		chown -R "$3:$4" "$dir"
	else
		(cd "$dir" && "$RUNC" spec)
		jq --argjson a "$args" '.process.terminal=false | .process.args=$a
			| .linux.cgroupsPath="/skiff-bench-runc"' "$dir/config.json" > "$dir/c.json"
	fi
	mv "$dir/c.json" "$dir/config.json"
}
if ! part run exec rootless; then
	:
elif [ -z "$RUNC" ]; then
	RUNC_LINE="runc: not installed, the bare runc figures are skipped"
else
	mkbundle "$B/bundle" '["true"]'
	mkbundle "$B/bundle-sleep" '["sleep","1000"]'
	R="$RUNC --root $RUN/runc"
	if $R run --bundle "$B/bundle" bench-check >"$B/runc.err" 2>&1; then
		pkg=$(dpkg -S "$RUNC" 2>/dev/null | cut -d: -f1 || true)
		RUNC_LINE="runc: $($RUNC --version | head -1 | sed 's/runc version //') ($RUNC${pkg:+, from the Debian package $pkg}; podman and docker run the same binary)"
	else
		RUNC_LINE="runc: a bare runc run fails here, skipped: $(tail -1 "$B/runc.err")"
		R=""
	fi
fi

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
say "# skiff benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, kernel $(uname -r)"
say ""
say "Medians of $RUNS runs after one warm-up (pull: $PULL_RUNS runs), rootful unless stated; every container with --network none except in the networking part${ONLY:+; only the parts: $ONLY}. Load average at the start: $LOAD0."
say ""
say "- skiff: $(git describe --always --dirty 2>/dev/null || echo unknown) ($SKIFF)"
for l in "$PODMAN_LINE" "$DOCKER_LINE" "$RUNC_LINE"; do [ -n "$l" ] && say "- $l"; done
if [ "$RUN" = "$B" ]; then say "- run roots (skiff, podman, runc): on disk, beside the stores (BENCH_RUNROOT_TMPFS=0)"
else say "- run roots (skiff, podman, runc): a tmpfs, as /run is on real hosts (dockerd's and containerd's state stay beside their stores)"; fi
say "- $(hyperfine --version)"
say ""
say "# Details"
say ""

# --- pull: 250 MB, 3 layers, loopback registry, empty store each time ---
# (docker before it has busybox, whose layer the big image shares)
if part pull; then
	section "pull of a 250 MB 3-layer image from a loopback registry (empty store each run)"
	export MRUNS=$PULL_RUNS WARMUP=0
	measure pull skiff "$SKIFF --root $B/pull --runroot $B/pullr pull -q --tls-verify=false $BIG" \
		"rm -rf $B/pull $B/pullr"
	[ -n "$P" ] && measure pull podman "$PODMAN --root $B/pp --runroot $B/ppr --tmpdir $B/ppt --network-config-dir $B/pcni pull -q --tls-verify=false $BIG" \
		"rm -rf $B/pp $B/ppr $B/ppt"
	# docker treats registries on 127.0.0.0/8 as insecure (plain http) by default
	[ -n "$D" ] && measure pull docker "$D pull -q $BIG" "sh -c '$D rmi -f $BIG >/dev/null 2>&1; true'"
	unset MRUNS WARMUP
	rm -rf "$B/pull" "$B/pullr" "$B/pp" "$B/ppr" "$B/ppt"
	table pull skiff podman docker
fi
[ -n "$D" ] && $D load -q -i "$B/busybox.tar" >/dev/null

# --- run --rm busybox true ---
if part run; then
	section "run --rm --network none busybox true"
	measure run skiff "$S run --rm --network none busybox true"
	[ -n "$P" ] && measure run podman "$P run --rm --network none busybox true"
	[ -n "$D" ] && measure run docker "$D run --rm --network none busybox true"
	[ -n "$R" ] && measure run runc "$R run --bundle $B/bundle bench-run" \
		"sh -c '$R delete -f bench-run >/dev/null 2>&1; true'"
	say "runc: \`runc run\` of a ready bundle (busybox's layer, \`runc spec\` with args [\"true\"], no terminal, its default namespaces: pid, mount, ipc, uts and an empty network namespace)."
	say ""
	table run skiff podman docker runc
	if [ -n "$R" ]; then
		say ""
		pair_ratio runpair "$S run --rm --network none busybox true" "$R run --bundle $B/bundle bench-run" "$R delete -f bench-run"
	fi
fi

# --- create (the container is removed before the next run, untimed) ---
if part create; then
	section "create --name bcreate --network none busybox true"
	measure create skiff "$S create --name bcreate --network none busybox true" "sh -c '$S rm -f bcreate >/dev/null 2>&1; true'"
	[ -n "$P" ] && measure create podman "$P create --name bcreate --network none busybox true" "sh -c '$P rm -f bcreate >/dev/null 2>&1; true'"
	[ -n "$D" ] && measure create docker "$D create --name bcreate --network none busybox true" "sh -c '$D rm -f bcreate >/dev/null 2>&1; true'"
	table create skiff podman docker
	$S rm -f bcreate >/dev/null 2>&1 || true
	[ -n "$P" ] && { $P rm -f bcreate >/dev/null 2>&1 || true; }
	[ -n "$D" ] && { $D rm -f bcreate >/dev/null 2>&1 || true; }
fi

# --- exec into a running container ---
if part exec; then
	section "exec bexec true (into a running busybox sleep 1000)"
	$S run -d --name bexec --network none busybox sleep 1000 >/dev/null
	[ -n "$P" ] && $P run -d --name bexec --network none busybox sleep 1000 >/dev/null
	[ -n "$D" ] && $D run -d --name bexec --network none busybox sleep 1000 >/dev/null
	[ -n "$R" ] && $R run -d --bundle "$B/bundle-sleep" bexec </dev/null >/dev/null 2>&1
	measure exec skiff "$S exec bexec true"
	[ -n "$P" ] && measure exec podman "$P exec bexec true"
	[ -n "$D" ] && measure exec docker "$D exec bexec true"
	[ -n "$R" ] && measure exec runc "$R exec bexec true"
	table exec skiff podman docker runc
fi
if part exec && ! part memory; then
	$S rm -f bexec >/dev/null
	[ -n "$P" ] && $P rm -f -t 0 bexec >/dev/null
	[ -n "$D" ] && $D rm -f bexec >/dev/null
	[ -n "$R" ] && $R delete -f bexec >/dev/null 2>&1
fi

# --- stats --no-stream of a running container ---
# Each engine's own way to one table: skiff reads its cgroup twice, 0.5 s
# apart; docker's daemon answers from two samples of its collector, which
# reads every second; podman reads once, since the container started.
if part stats; then
	section "stats --no-stream bstats (a running busybox sleep 1000)"
	$S run -d --name bstats --network none busybox sleep 1000 >/dev/null
	[ -n "$P" ] && $P run -d --name bstats --network none busybox sleep 1000 >/dev/null
	[ -n "$D" ] && $D run -d --name bstats --network none busybox sleep 1000 >/dev/null
	measure stats skiff "$S stats --no-stream bstats"
	[ -n "$P" ] && measure stats podman "$P stats --no-stream bstats"
	[ -n "$D" ] && measure stats docker "$D stats --no-stream bstats"
	table stats skiff podman docker
	$S rm -f bstats >/dev/null
	[ -n "$P" ] && $P rm -f -t 0 bstats >/dev/null
	[ -n "$D" ] && $D rm -f bstats >/dev/null
fi

# --- idle monitor memory ---
# VmRSS counts the binary's pages, which every monitor shares; what each
# more running container costs is its private memory (Pss spreads the
# shared pages over the monitors). Ten running containers per engine.
if part memory; then
	section "idle memory of the per-container process (10 running containers each, average)"
	first=1; part exec && first=2  # bexec, from exec, is the first
	# Issue 10's figure: each monitor with a restart policy and a
	# healthcheck active (dockerd runs both itself; podman's healthchecks
	# need systemd timers, which this host has not: its containers get the
	# policy alone).
	svc="--restart always --health-cmd true --health-interval 2s"
	for i in $(seq "$first" 10); do
		$S run -d --network none $svc busybox sleep 1000 >/dev/null
		[ -n "$P" ] && $P run -d --network none --restart always busybox sleep 1000 >/dev/null
		[ -n "$D" ] && $D run -d --network none $svc busybox sleep 1000 >/dev/null
	done
	sleep 3 # past the first healthcheck of each
	mem_avg() { # PIDS... : average VmRSS, Pss and private kB
		[ $# -gt 0 ] || { echo "no processes found"; return; }
		for p in "$@"; do
			rss=$(awk '/^VmRSS/{print $2}' /proc/$p/status)
			awk -v rss="$rss" '/^Pss:/{pss=$2} /^Private_(Clean|Dirty):/{priv+=$2} END{print rss, pss, priv}' /proc/$p/smaps_rollup
		done | awk '{r+=$1; p+=$2; v+=$3; n++} END{printf "VmRSS %.0f kB, Pss %.0f kB, private %.0f kB (%d processes)", r/n, p/n, v/n, n}'
	}
	# skiff's monitors by the pid each container's monitor.pid records: a
	# running container's monitor has become skiff-monitor-idle (execve:
	# same pid), so its command line no longer says skiff-monitor.
	mons=$(cat "$RUN"/sr/c/*/monitor.pid 2>/dev/null || true)
	say "- skiff-monitor: $(mem_avg $mons)"
	# what the monitors run now, and their Pss split: anonymous (the Go
	# heap, stacks, runtime metadata: each monitor's own) and file (the
	# binary's pages, shared by all)
	split=$(for p in $mons; do
		printf '%s ' "$(basename "$(readlink /proc/$p/exe)")"
		awk '/^Pss_Anon:/{a=$2} /^Pss_File:/{f=$2} END{print a, f}' /proc/$p/smaps_rollup
	done | awk '{n[$1]++; a+=$2; f+=$3; c++} END{for (b in n) printf "%s × %d, ", b, n[b]; printf "Pss anon %.0f kB + file %.0f kB", a/c, f/c}')
	say "  skiff: $split"
	[ -n "$P" ] && say "- podman's conmon: $(mem_avg $(pgrep -f "conmon .*$B/p/" || true))"
	[ -n "$D" ] && say "- docker's containerd-shim-runc-v2: $(mem_avg $(pgrep -f "containerd-shim-runc-v2 .*$B/c/containerd.sock" || true))"
	say ""
	ids=$($S ps -q); [ -n "$ids" ] && $S rm -f $ids >/dev/null
	[ -n "$P" ] && $P rm -a -f -t 0 >/dev/null
	[ -n "$D" ] && { ids=$($D ps -aq); [ -n "$ids" ] && $D rm -f $ids >/dev/null; }
	[ -n "$R" ] && $R delete -f bexec >/dev/null 2>&1
fi

part api && api_figures

# --- ps -a with PS_N created containers in each engine ---
if part ps; then
	section "ps -a with $PS_N created containers"
	created() { # ENGINE CLI...: creates PS_N containers, says how long it took
		local eng=$1 t0 t1 i; shift
		t0=$(date +%s.%N)
		for i in $(seq "$PS_N"); do "$@" create --network none busybox true >/dev/null; done
		t1=$(date +%s.%N)
		say "- $eng: $PS_N \`create\` in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f s", b-a}')"
	}
	echo "  creating $PS_N containers for each engine" >&2
	created skiff $S
	[ -n "$P" ] && created podman $P
	[ -n "$D" ] && created docker $D
	say ""
	measure ps skiff "$S ps -a"
	[ -n "$P" ] && measure ps podman "$P ps -a"
	[ -n "$D" ] && measure ps docker "$D ps -a"
	table ps skiff podman docker
fi

# baseline_build: the BASELINE revision's binaries, built from this
# repository's history with its own Makefile into $B/before; BSKIFF is its
# skiff. A revision that is missing or does not build is noted and skipped.
baseline_build() {
	local src=$B/before
	[ -n "$BASELINE" ] || return 0
	if ! git -C "$ROOT" rev-parse -q --verify "$BASELINE^{commit}" >/dev/null; then
		note "the build from before issue 7: $BASELINE is not in this repository's history (BASELINE=REV names another)"
		return 0
	fi
	mkdir -p "$src"
	if git -C "$ROOT" archive "$BASELINE" | tar -x -C "$src" && make -C "$src" build >"$B/before.log" 2>&1; then
		chmod -R a+rX "$src/bin"
		as_read_from_disk "$src"/bin/skiff*
		BSKIFF=$src/bin/skiff
	else
		note "the build from before issue 7 ($BASELINE) failed: $(tail -1 "$B/before.log")"
	fi
}

# --- rootless: run --rm as an unprivileged user ---
if part rootless; then
	bench_user
	section "run --rm --network none busybox true, rootless (as $BUSER)"
	as_user "$SKIFF" load -q -i "$UHOME/busybox.tar" >/dev/null
	WARMUP=3 AS=as_user measure run_rootless skiff "$SKIFF run --rm --network none busybox true"
	if [ -n "$PODMAN_CONF" ]; then  # podman installed and its conf found
		# A home of its own: on ext4 without a journal a new inode skips
		# those its block group freed lately, and podman's runs in skiff's
		# home (beside its store, in the same groups) slowed skiff's next
		# runs, which the build from before, in a home of its own, never
		# met: by hand, skiff ÷ before went from 0.74× to 0.91× after 25
		# podman runs in skiff's home.
		PR=1
		bench_user "$PHOME"
		UH=$PHOME as_user "$PODMAN" load -q -i "$PHOME/busybox.tar" >/dev/null 2>&1 || true
		if UH=$PHOME as_user "$PODMAN" run --rm --network none busybox true >"$B/pod.err" 2>&1; then
			WARMUP=3 UH=$PHOME AS=as_user measure run_rootless podman "$PODMAN run --rm --network none busybox true"
		else
			note "rootless podman cannot run a container here: $(tail -1 "$B/pod.err")"
		fi
	else
		note "rootless podman: ${PODMAN_LINE#podman: }"
	fi
	if [ -n "$R" ]; then
		# the bundle's files belong to the user, as a rootless store's do
		if mkbundle "$UHOME/bundle" '["true"]' "$(id -u "$BUSER")" "$(id -g "$BUSER")" >"$B/runc.err" 2>&1 &&
			as_user "$RUNC" --root "$URUNC" run --bundle "$UHOME/bundle" bench-check >>"$B/runc.err" 2>&1; then
			WARMUP=3 AS=as_user measure run_rootless runc "$RUNC --root $URUNC run --bundle $UHOME/bundle bench-run" \
				"sh -c '$RUNC --root $URUNC delete -f bench-run >/dev/null 2>&1; true'"
			say "runc: \`runc spec --rootless\` (a user namespace mapping the user only, no cgroups) plus a network namespace."
			say ""
		else
			note "rootless runc cannot run the bundle here: $(tail -1 "$B/runc.err")"
		fi
	fi
	# Issue 7's "no slower than before": the build from before it, as the
	# same user with a store of its own, timed beside this one. Each
	# rootless series warms up three runs: this VM pages out what was not
	# touched for a minute (docs/performance.md, 2026-12-05), and an engine
	# idle since the rootful parts reads its binaries from disk again.
	baseline_build
	if [ -n "$BSKIFF" ]; then
		bench_user "$BHOME"
		UH=$BHOME as_user "$BSKIFF" load -q -i "$BHOME/busybox.tar" >/dev/null
		WARMUP=3 UH=$BHOME AS=as_user measure run_rootless before "$BSKIFF run --rm --network none busybox true"
		say "before: \`git archive $BASELINE\`, its \`make build\`, its own store in $BHOME."
		say ""
		# each with its own home, by env on both sides alike
		AS=as_user pair_ratio rootlesspair "env HOME=$UHOME XDG_RUNTIME_DIR=$UHOME/run $SKIFF run --rm --network none busybox true" \
			"env HOME=$BHOME XDG_RUNTIME_DIR=$BHOME/run $BSKIFF run --rm --network none busybox true"
	fi
	table run_rootless skiff podman runc before
fi

part cp && cp_figures

if part network; then
	net_setup
	net_figures
fi

part commit && commit_figures

part events && events_figures

part health && health_figures

# --- summary: medians side by side and the issue's ratios ---
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
{
	# the networking part's engines, set up when it started, beside the others
	sed -n '1,/^# Details$/p' "$LOG" | sed '$d' | while IFS= read -r l; do
		case $l in "- hyperfine "*) for n in "${NET_LINES[@]}"; do echo "- $n"; done ;; esac
		printf '%s\n' "$l"
	done
	echo "Load average at the end: $LOAD1."
	echo ""
	echo "## Summary (medians)"
	echo ""
	echo "| figure | skiff | podman | docker | bare runc | skiff ÷ podman | skiff ÷ docker | skiff ÷ runc |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	for row in "pull|pull, 250 MB" "run|run --rm busybox true" "create|create" "exec|exec CTR true" "stats|stats --no-stream CTR" \
		"ps|ps -a, $PS_N containers" "run_rootless|run --rm busybox true, rootless" "${CP_ROWS[@]}" "${NET_ROWS[@]}" "${COMMIT_ROWS[@]}" "${EVENTS_ROWS[@]}" "${API_ROWS[@]}"; do
		fig=${row%%|*}; label=${row#*|}
		s=$(value "$fig" skiff); p=$(value "$fig" podman)
		d=$(value "$fig" docker); r=$(value "$fig" runc)
		[ -n "$s$p$d$r" ] || continue  # a part not measured (ONLY)
		echo "| $label | $(fmtv "$fig" "$s") | $(fmtv "$fig" "$p") | $(fmtv "$fig" "$d") | $(fmtv "$fig" "$r") | $(ratio "$s" "$p") | $(ratio "$s" "$d") | $(ratio "$s" "$r") |"
	done
	echo ""
	part network && { echo "Ratios of times: below 1× skiff is faster; of throughputs (Gbit/s): above 1×."; echo ""; }
	if part run create exec ps rootless; then
		echo "Goals of issue 7 (its figures from a fresh machine of this kind, before the issue, in brackets):"
		echo ""
		goal "skiff run --rm ÷ bare runc run [51.8 ÷ 20.2 = 2.56×]" "$(stat_ms run skiff median)" "$(stat_ms run runc median)" 1.8
		[ -f "$J/runpair.ratio" ] && goal "skiff run --rm ÷ bare runc run, median of paired ABBA rounds" "$(cat "$J/runpair.ratio")" 1 1.8
		goal "skiff ps -a ÷ docker ps -a, $PS_N containers [200: 15.5 ÷ 25.5 = 0.61×]" "$(stat_ms ps skiff median)" "$(stat_ms ps docker median)" 0.5
		goal "skiff create ÷ docker create, no slower than before [13.9 ÷ 21.8 = 0.64×]" "$(stat_ms create skiff median)" "$(stat_ms create docker median)" 0.64
		goal "skiff exec ÷ docker exec, no slower than before [28.5 ÷ 60 = 0.48×]" "$(stat_ms exec skiff median)" "$(stat_ms exec docker median)" 0.48
		goal "skiff rootless run ÷ podman rootless run, no slower than before [33.5 ÷ 154 = 0.22×]" "$(stat_ms run_rootless skiff median)" "$(stat_ms run_rootless podman median)" 0.22
		if [ -n "$BSKIFF" ]; then
			goal "the build from before the issue ($BASELINE), rootless run ÷ podman rootless run, in the same run" "$(stat_ms run_rootless before median)" "$(stat_ms run_rootless podman median)" 0.22
			[ -f "$J/rootlesspair.ratio" ] && goal "skiff rootless run ÷ the build from before the issue ($BASELINE), median of paired ABBA rounds: no slower than before" "$(cat "$J/rootlesspair.ratio")" 1 1.0
		fi
		echo ""
	fi
	part cp && cp_goals
	part network && net_goals
	part commit && commit_goals
	part events && events_goals
	part health && health_goals
	part api && api_goals
	if [ ${#NOTES[@]} -gt 0 ]; then
		echo "Not measured, or failed:"
		echo ""
		for n in "${NOTES[@]}"; do echo "- $n"; done
		echo ""
	fi
	sed -n '/^# Details$/,$p' "$LOG"
} > "$B/out.md"
mkdir -p "$(dirname "$OUT")"
mv "$B/out.md" "$OUT"
sed -n '1,/^# Details$/p' "$OUT" | sed '$d'
echo "figures written to $OUT"
[ -z "$SKIFF_FAILED" ] || { echo "make bench: a skiff command failed (see above)" >&2; exit 1; }
