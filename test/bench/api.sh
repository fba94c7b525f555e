# Sourced by run.sh: the Docker API part of make bench (ONLY=api runs it
# alone). It uses run.sh's helpers (measure, table, note, say, section,
# stat_ms) and defines api_figures, api_goals and API_ROWS, the rows of the
# summary.
#
# Figures, the issue's (11): one docker client ($DOCKER, Debian's) against
# - skiff: `skiff system service --time 0` on a socket in the bench's
#   directory, started once and left running (the "running shim");
# - docker: the bench's private dockerd;
# - podman: `podman system service --time 0` (its compat API), rootful,
#   when podman runs here;
# timing `docker ps -a` with API_N (default 200) created containers in each
# engine and `docker run --rm --network none busybox true`. The first
# request after socket activation: Debian's systemd-socket-activate holds
# the socket, the timed command is one `curl` of /_ping on it, which
# starts the service (skiff and podman alike, each exits when idle); the
# untimed preparation starts a fresh systemd-socket-activate and waits for
# its socket. dockerd has no activation of its own: its row is the same
# curl against the running dockerd, the floor of the figure.
API_N=${API_N:-200}
API_ROWS=("api_ps|docker ps -a through the API, $API_N containers" "api_run|docker run --rm through the API" "api_act|first _ping after socket activation")
API_PIDS=()

# api_serve NAME CMD...: CMD serving on $B/NAME.sock in the background;
# waits until it answers _ping (10 s).
api_serve() {
	local name=$1 sock=$B/$1.sock
	shift
	"$@" "unix://$sock" >"$B/$name.log" 2>&1 &
	API_PIDS+=($!)
	for _ in $(seq 200); do
		curl -sf --unix-socket "$sock" http://d/_ping >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	note "api: $name's service did not answer on $sock: $(tail -1 "$B/$name.log")"
	return 1
}

# api_activate NAME CMD...: writes $B/NAME.act, the preparation of one
# activation: the previous activator stopped, a fresh one listening.
api_activate() {
	local name=$1 sock=$B/$1-act.sock
	shift
	cat > "$B/$name.act" <<SH
#!/bin/sh
[ -f "$B/$name.act.pid" ] && kill \$(cat "$B/$name.act.pid") 2>/dev/null
while [ -f "$B/$name.act.pid" ] && kill -0 \$(cat "$B/$name.act.pid") 2>/dev/null; do sleep 0.01; done
rm -f "$sock"
setsid systemd-socket-activate -l "$sock" $* >>"$B/$name.act.log" 2>&1 </dev/null &
echo \$! > "$B/$name.act.pid"
while [ ! -S "$sock" ]; do sleep 0.005; done
SH
	chmod +x "$B/$name.act"
}

api_figures() {
	section "the Docker API: the docker client ($($DOCKER version --format '{{.Client.Version}}' 2>/dev/null)) through skiff system service, dockerd and podman system service"
	local ds="" dp="" n
	if api_serve skiff-api $S system service --time 0; then
		ds="$DOCKER --config $B/docker-config -H unix://$B/skiff-api.sock"
	else
		SKIFF_FAILED=1
	fi
	if [ -n "$P" ] && api_serve podman-api $P system service --time 0; then
		dp="$DOCKER --config $B/docker-config -H unix://$B/podman-api.sock"
	fi
	local pline="not measured"
	[ -n "$dp" ] && pline="\`podman system service --time 0\`, running"
	say "- skiff: \`skiff system service --time 0\`, running; podman: $pline; docker: the bench's dockerd"
	echo "  creating $API_N containers for each engine" >&2
	for n in $(seq "$API_N"); do
		$S create --network none busybox true >/dev/null
		[ -n "$D" ] && $D create --network none busybox true >/dev/null
		[ -n "$dp" ] && $P create --network none busybox true >/dev/null
	done
	[ -n "$ds" ] && measure api_ps skiff "$ds ps -a"
	[ -n "$dp" ] && measure api_ps podman "$dp ps -a"
	[ -n "$D" ] && measure api_ps docker "$D ps -a"
	table api_ps skiff podman docker
	$S rm $($S ps -aq) >/dev/null
	[ -n "$D" ] && $D rm $($D ps -aq) >/dev/null
	[ -n "$dp" ] && $P rm -a >/dev/null

	[ -n "$ds" ] && measure api_run skiff "$ds run --rm --network none busybox true"
	[ -n "$dp" ] && measure api_run podman "$dp run --rm --network none busybox true"
	[ -n "$D" ] && measure api_run docker "$D run --rm --network none busybox true"
	table api_run skiff podman docker

	if command -v systemd-socket-activate >/dev/null; then
		api_activate skiff "$S system service --time 5"
		measure api_act skiff "curl -sf --unix-socket $B/skiff-act.sock http://d/_ping" "$B/skiff.act"
		if [ -n "$dp" ]; then
			api_activate podman "$P system service --time 5"
			measure api_act podman "curl -sf --unix-socket $B/podman-act.sock http://d/_ping" "$B/podman.act"
		fi
		[ -n "$D" ] && measure api_act docker "curl -sf --unix-socket $B/docker.sock http://d/_ping"
		table api_act skiff podman docker
		for n in skiff podman; do
			[ -f "$B/$n.act.pid" ] && kill "$(cat "$B/$n.act.pid")" 2>/dev/null || true
		done
	else
		note "api: systemd-socket-activate is missing (Debian's systemd package), the activation figure is not measured"
	fi
	for n in "${API_PIDS[@]}"; do kill "$n" 2>/dev/null || true; done
	return 0
}

api_goals() {
	echo "Goals of issue 11:"
	echo ""
	goal "docker ps -a through skiff's service ÷ through dockerd, $API_N containers" "$(stat_ms api_ps skiff median)" "$(stat_ms api_ps docker median)" 1.0
	goal "docker run --rm through skiff's service ÷ through dockerd" "$(stat_ms api_run skiff median)" "$(stat_ms api_run docker median)" 0.5
	local v
	v=$(stat_ms api_act skiff median)
	if [ -n "$v" ]; then
		awk -v v="$v" 'BEGIN{ printf "- first _ping after socket activation, skiff: %.1f ms (goal ≤ 100 ms): %s\n", v, (v <= 100 ? "met" : "not met") }'
	else
		echo "- first _ping after socket activation: not measured"
	fi
	echo ""
}
