# Sourced by run.sh: the healthcheck part of make bench (ONLY=health runs
# it alone). It uses run.sh's helpers (say, note, section) and defines
# health_figures and health_goals.
#
# Figure: the CPU time one healthcheck costs, the issue's "a healthcheck
# costs ≤ 30 ms of CPU per run". A container runs `sleep` with a check
# that appends a line to a file, every HEALTH_INTERVAL (default 100ms) for
# HEALTH_SECS (default 10) seconds; the CPU is what the processes that run
# checks spent meanwhile (user + system, their reaped children included:
# the exec'd processes), divided by the checks the file counted:
# - skiff: the container's monitor (skiff-monitor-idle while the container
#   runs: it times each check and runs it as a `skiff-monitor health`
#   child, whose CPU is counted once reaped);
# - docker: dockerd, containerd and the container's shim (dockerd
#   schedules the check, the shim execs it through runc);
# - podman: its checks need systemd timers, which this host has not: each
#   check is a `podman healthcheck run` (what its timer would start), the
#   CPU of that command and its children, HEALTH_RUNS (default 20) times.
HEALTH_INTERVAL=${HEALTH_INTERVAL:-100ms}
HEALTH_SECS=${HEALTH_SECS:-10}
HEALTH_RUNS=${HEALTH_RUNS:-20}

# cpu_ticks PID...: utime + stime + cutime + cstime of each, summed (clock ticks).
cpu_ticks() {
	local p t=0
	for p in "$@"; do
		t=$(( t + $(awk '{sub(/^.*\) /, ""); print $12 + $13 + $14 + $15}' "/proc/$p/stat") ))
	done
	echo "$t"
}

# health_cpu ENGINE CHECKS TICKS: records and says ms of CPU per check.
health_cpu() {
	local hz
	hz=$(getconf CLK_TCK)
	if [ "${2:-0}" -le 0 ]; then
		note "health: $1 ran no check"
		return 0
	fi
	awk -v t="$3" -v n="$2" -v hz="$hz" 'BEGIN{ printf "%.1f", t * 1000 / hz / n }' > "$J/health.$1.cpu"
	say "- $1: $(cat "$J/health.$1.cpu") ms of CPU per check ($2 checks)"
}

health_figures() {
	section "CPU per healthcheck (a check every $HEALTH_INTERVAL for $HEALTH_SECS s)"
	local check='echo x >> /tmp/checks' id pids t0 t1 n
	id=$($S run -d --network none --health-cmd "$check" --health-interval "$HEALTH_INTERVAL" busybox sleep 1000)
	# The monitor by its pid file: its argv is skiff-monitor-idle's by now.
	pids=$(cat "$RUN/sr/c/$id/monitor.pid" 2>/dev/null || true)
	if [ -z "$pids" ]; then
		note "health: skiff's monitor of $id not found"
		SKIFF_FAILED=1
	else
		$S exec "$id" sh -c ': > /tmp/checks'
		t0=$(cpu_ticks $pids); sleep "$HEALTH_SECS"; t1=$(cpu_ticks $pids)
		n=$($S exec "$id" sh -c 'wc -l < /tmp/checks')
		health_cpu skiff "$n" $(( t1 - t0 ))
		say "  skiff: $($S inspect "$id" --format '{{.State.Health.Status}}'), through the monitor alone"
	fi
	$S rm -f "$id" >/dev/null
	if [ -n "$D" ]; then
		id=$($D run -d --network none --health-cmd "$check" --health-interval "$HEALTH_INTERVAL" busybox sleep 1000)
		pids="$DOCKERD_PID $CTRD_PID $(pgrep -f "containerd-shim-runc-v2 .*-id $id" || true)"
		$D exec "$id" sh -c ': > /tmp/checks'
		t0=$(cpu_ticks $pids); sleep "$HEALTH_SECS"; t1=$(cpu_ticks $pids)
		n=$($D exec "$id" sh -c 'wc -l < /tmp/checks')
		health_cpu docker "$n" $(( t1 - t0 ))
		$D rm -f "$id" >/dev/null
	fi
	if [ -n "$P" ]; then
		# No --health-interval: podman would try to make a systemd timer.
		if id=$($P run -d --network none --health-cmd "$check" --health-interval disable busybox sleep 1000 2>"$B/p.err"); then
			local i before after
			$P exec "$id" sh -c ': > /tmp/checks'
			before=$(awk '{print $14 + $15 + $16 + $17}' /proc/self/stat)
			t0=$(date +%s%N)
			bash -c 'for i in $(seq '"$HEALTH_RUNS"'); do '"$P"' healthcheck run '"$id"' >/dev/null; done; times' > "$B/p.times"
			# times: the shell's, then its children's user and system time.
			n=$($P exec "$id" sh -c 'wc -l < /tmp/checks')
			local ms
			ms=$(sed -n 2p "$B/p.times" | awk -v n="$n" '{ split($1, u, "m"); split($2, s, "m"); printf "%.1f", ((u[1] * 60 + u[2]) + (s[1] * 60 + s[2])) * 1000 / n }')
			echo "$ms" > "$J/health.podman.cpu"
			say "- podman: $ms ms of CPU per check ($n × \`podman healthcheck run\`, its processes included)"
			$P rm -f -t 0 "$id" >/dev/null
		else
			note "health: podman run --health-cmd failed: $(tail -1 "$B/p.err")"
		fi
	fi
	say ""
}

health_goals() {
	echo "Goal of issue 10:"
	echo ""
	if [ -f "$J/health.skiff.cpu" ]; then
		awk -v v="$(cat "$J/health.skiff.cpu")" -v p="$(cat "$J/health.podman.cpu" 2>/dev/null)" -v d="$(cat "$J/health.docker.cpu" 2>/dev/null)" 'BEGIN{
			printf "- skiff CPU per healthcheck: %.1f ms (goal ≤ 30 ms): %s", v, (v <= 30 ? "met" : "not met")
			if (p != "") printf "; podman healthcheck run %.1f ms", p
			if (d != "") printf "; docker %.1f ms", d
			printf "\n" }'
	else
		echo "- skiff CPU per healthcheck: not measured"
	fi
	echo ""
}
