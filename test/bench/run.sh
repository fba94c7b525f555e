#!/usr/bin/env bash
# make bench: skiff beside podman on this machine, in one run. A benchmark,
# not a test: it prints figures (and writes them to $OUT, default
# bin/bench.md); it fails only when a command it measures fails.
#
# Needs root (for the rootless part it runs as the user skiff-bench, created
# if absent), hyperfine, and Debian's docker-registry; podman is measured
# when installed. RUNS=N sets the repetitions (default 10).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
RUNS=${RUNS:-10}
OUT=${OUT:-$ROOT/bin/bench.md}
B=$(mktemp -d /tmp/skiff-bench.XXXXXX)
chmod 755 "$B"
SKIFF=$ROOT/bin/skiff
PODMAN=$(command -v podman || true)
BUSER=skiff-bench
trap 'cleanup' EXIT

cleanup() {
	set +e
	[ -n "${REG_PID:-}" ] && kill "$REG_PID" 2>/dev/null
	"$SKIFF" --root "$B/s" --runroot "$B/sr" rm -f bexec >/dev/null 2>&1
	[ -n "$PODMAN" ] && $PODMAN --root "$B/p" --runroot "$B/pr" rm -f -t 0 bexec >/dev/null 2>&1
	[ -n "$PODMAN" ] && $PODMAN --root "$B/p" --runroot "$B/pr" rm -a -f >/dev/null 2>&1
	as_user "$SKIFF" system migrate >/dev/null 2>&1
	pkill -u "$BUSER" 2>/dev/null
	grep -o " $B[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
	rm -rf "$B"
}

say() { printf '%s\n' "$*" | tee -a "$OUT"; }

# --- fixtures: a registry on loopback, the busybox image, a 250 MB image ---
: > "$OUT"
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
go run ./test/cmd/mkimage -o "$B/busybox.tar" -tag busybox:latest >/dev/null 2>&1
go run ./test/cmd/mkimage -kind layers -size 250M -layers 3 -gzip -o "$B/big.tar" -tag bench/big:latest >/dev/null 2>&1
S="$SKIFF --root $B/s --runroot $B/sr"
$S load -i "$B/big.tar" >/dev/null
$S push -q --tls-verify=false bench/big:latest "$BIG"
$S rmi bench/big:latest >/dev/null
$S load -i "$B/busybox.tar" >/dev/null

say "# skiff benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, kernel $(uname -r)"
say "podman: ${PODMAN:+$($PODMAN --version)}${PODMAN:-not installed}"
say ""

# hyperfine_md NAME CMD... : runs hyperfine and appends its table.
hyperfine_md() {
	local name=$1; shift
	say "## $name"
	hyperfine -N --style basic --runs "$RUNS" --warmup 1 --export-markdown "$B/h.md" "$@" >/dev/null 2>"$B/h.err" || { cat "$B/h.err"; say "(failed: $(tail -1 "$B/h.err"))"; return 0; }
	cat "$B/h.md" | tee -a "$OUT"
	say ""
}

# --- pull: 250 MB, 3 layers, loopback registry, empty store each time ---
say "## pull of a 250 MB 3-layer image from a loopback registry (empty store each run)"
hyperfine --style basic --runs 5 --export-markdown "$B/h.md" \
	--prepare "rm -rf $B/pull $B/pullr $B/pp $B/ppr" \
	-n skiff "$SKIFF --root $B/pull --runroot $B/pullr pull -q --tls-verify=false $BIG" \
	${PODMAN:+-n podman "$PODMAN --root $B/pp --runroot $B/ppr pull -q --tls-verify=false $BIG"} >/dev/null 2>"$B/h.err" || cat "$B/h.err"
cat "$B/h.md" | tee -a "$OUT"; say ""

# --- run --rm busybox true, rootful ---
P=""
if [ -n "$PODMAN" ]; then
	P="$PODMAN --root $B/p --runroot $B/pr"
	$P load -q -i "$B/busybox.tar" >/dev/null
	if ! $P run --rm --network none busybox true >"$B/pod.err" 2>&1; then
		say "rootful podman cannot run containers on this host: $(tail -1 "$B/pod.err")"
		say "(with default_ulimits cleared in containers.conf it fails next on: crun: cgroups in hybrid mode not supported)"
		say ""
		P=""
	fi
fi
hyperfine_md "run --rm --network none busybox true (rootful)" \
	-n skiff "$S run --rm --network none busybox true" \
	${P:+-n podman "$P run --rm --network none busybox true"}

# --- exec ---
$S run -d --name bexec busybox sleep 1000 >/dev/null
[ -n "$P" ] && $P run -d --name bexec --network none busybox sleep 1000 >/dev/null
hyperfine_md "exec CTR true (rootful)" -n skiff "$S exec bexec true" ${P:+-n podman "$P exec bexec true"}

# --- idle monitor memory ---
# VmRSS counts the binary's pages, which every monitor shares; what each
# more running container costs is its private memory (Pss spreads the
# shared pages over the monitors). Ten idle monitors, averaged.
for i in $(seq 2 10); do $S run -d busybox sleep 1000 >/dev/null; done
say "## idle monitor memory per running container (10 running, average)"
mem_avg() { # PIDS... : average VmRSS, Pss and private kB
	for p in "$@"; do
		rss=$(awk '/^VmRSS/{print $2}' /proc/$p/status)
		awk -v rss="$rss" '/^Pss:/{pss=$2} /^Private_(Clean|Dirty):/{priv+=$2} END{print rss, pss, priv}' /proc/$p/smaps_rollup
	done | awk '{r+=$1; p+=$2; v+=$3; n++} END{printf "VmRSS %.0f kB, Pss %.0f kB, private %.0f kB (%d processes)", r/n, p/n, v/n, n}'
}
say "skiff-monitor: $(mem_avg $(pgrep -f "skiff-monitor run $B/sr"))"
if [ -n "$P" ]; then
	cm=$(pgrep conmon || true)
	[ -n "$cm" ] && say "conmon: $(mem_avg $cm)"
fi
say ""
$S rm -f $($S ps -q) >/dev/null

# --- ps -a with many containers ---
for i in $(seq 1000); do $S create busybox true >/dev/null; done
hyperfine_md "ps -a with 1000 containers" -n skiff "$S ps -a"
if [ -n "$P" ]; then
	for i in $(seq 200); do $P create --network none busybox true >/dev/null; done
	hyperfine_md "podman ps -a with 200 containers" -n podman "$P ps -a"
fi

# --- rootless: run --rm and exec as an unprivileged user ---
id "$BUSER" >/dev/null 2>&1 || useradd -m -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$BUSER"
grep -q "^$BUSER:" /etc/subuid || echo "$BUSER:400000:65536" >> /etc/subuid
grep -q "^$BUSER:" /etc/subgid || echo "$BUSER:400000:65536" >> /etc/subgid
UHOME=$B/home; mkdir -p "$UHOME/run"; chmod 700 "$UHOME/run"; cp "$B/busybox.tar" "$UHOME/"; chown -R "$BUSER:" "$UHOME"
as_user() { setpriv --reuid="$BUSER" --regid="$BUSER" --init-groups env -i HOME="$UHOME" XDG_RUNTIME_DIR="$UHOME/run" PATH=/usr/bin:/bin "$@"; }
as_user "$SKIFF" load -q -i "$UHOME/busybox.tar" >/dev/null
say "## run --rm --network none busybox true (rootless)"
# hyperfine itself runs as the user, so that setpriv and env are not timed.
as_user hyperfine -N --style basic --runs "$RUNS" --warmup 1 --export-markdown "$UHOME/h.md" \
	-n skiff "$SKIFF run --rm --network none busybox true" >/dev/null 2>"$B/h.err" || cat "$B/h.err"
cat "$UHOME/h.md" | tee -a "$OUT"; say ""
if [ -n "$PODMAN" ]; then
	as_user "$PODMAN" load -q -i "$UHOME/busybox.tar" >/dev/null 2>&1 || true
	if as_user "$PODMAN" run --rm --network none busybox true >"$B/pod.err" 2>&1; then
		as_user hyperfine -N --style basic --runs "$RUNS" --export-markdown "$UHOME/h.md" -n podman "$PODMAN run --rm --network none busybox true" >/dev/null 2>&1
		cat "$UHOME/h.md" | tee -a "$OUT"
	else
		say "rootless podman fails here out of the box: $(tail -1 "$B/pod.err")"
	fi
	say ""
fi
echo "figures written to $OUT"
