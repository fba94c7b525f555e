# Sourced by run.sh: the events part of make bench (ONLY=events runs it
# alone). It uses run.sh's helpers (measure, table, note, say, section,
# stat_ms) and defines events_figures, events_goals and EVENTS_ROWS, the
# rows of the summary.
#
# Figure: `events --since 0 --until 0s` printing EVENTS_N (default 10 000)
# events, the issue's "events of 10 000 records prints in ≤ 100 ms". The
# events are those of EVENTS_N/5 `run --rm`s (create, attach, start, die,
# destroy, each with its image, name and a label, die with exitCode),
# written straight into skiff's events table with the sqlite3 CLI, as the
# engine writes them: recording 10 000 through 2 000 runs would take
# minutes and time nothing more. podman's events log (its file logger, in
# the bench's directory) is filled to as many lines with copies of events
# it wrote; dockerd keeps only its last 256 events, in memory, and gets
# those from 128 tags and untags. Each engine's count is said beside it.
EVENTS_ROWS=("events|events --since 0 --until now")
EVENTS_N=${EVENTS_N:-10000}

# events_fill DB N: N container events, one a millisecond, ending now.
events_fill() {
	local t0=$(( $(date +%s%N) - $2 * 1000000 ))
	sqlite3 "$1" "WITH RECURSIVE i(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n < $2 - 1)
		INSERT INTO events (time, type, action, actor_id, attributes)
		SELECT $t0 + n * 1000000, 'container',
			CASE n % 5 WHEN 0 THEN 'create' WHEN 1 THEN 'attach' WHEN 2 THEN 'start' WHEN 3 THEN 'die' ELSE 'destroy' END,
			printf('%016x%016x%016x%016x', (n / 5 + 1) * 2654435761, (n / 5 + 1) * 40503, (n / 5 + 1) * 2246822519, (n / 5 + 1) * 3266489917),
			CASE n % 5 WHEN 3 THEN json_object('com.example.role', 'bench', 'execDuration', '0', 'exitCode', '0', 'image', 'busybox', 'name', 'bench_' || (n / 5))
				ELSE json_object('com.example.role', 'bench', 'image', 'busybox', 'name', 'bench_' || (n / 5)) END
		FROM i;"
}

events_figures() {
	section "events --since 0 --until now, $EVENTS_N events in skiff's table"
	if ! command -v sqlite3 >/dev/null; then
		note "events: the sqlite3 CLI is missing (apt-get install sqlite3), not measured"
		return 0
	fi
	$S volume ls >/dev/null # the state database, migrated
	sqlite3 "$B/s/skiff.db" "DELETE FROM events"
	events_fill "$B/s/skiff.db" "$EVENTS_N"
	local n
	n=$($S events --since 0 --until 0s | wc -l)
	[ "$n" -ge "$EVENTS_N" ] || note "events: skiff printed $n events, want $EVENTS_N"
	measure events skiff "$S events --since 0 --until 0s"
	say "skiff printed $n events."
	if [ -n "$D" ]; then
		# dockerd keeps its last 256 events: it gets that many, from 128 tags and untags.
		for i in $(seq 128); do $D tag busybox "bench/ev:$i" && $D rmi "bench/ev:$i"; done >/dev/null 2>&1
		n=$($D events --since 0 --until "$(date +%s)" | wc -l)
		measure events docker "$D events --since 0 --until $(date +%s)"
		say "docker printed $n events (dockerd keeps its last 256)."
	fi
	if [ -n "$P" ]; then
		# podman's file logger: its log in our tmpdir, filled with copies of
		# the events podman wrote itself up to EVENTS_N lines.
		$P volume create bench-ev >/dev/null && $P volume rm bench-ev >/dev/null
		local plog
		plog=$(find "$B/pt" "$B/pr" -name events.log 2>/dev/null | head -1)
		if [ -n "$plog" ] && [ -s "$plog" ]; then
			python3 - "$plog" "$EVENTS_N" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
lines = [l for l in open(path) if l.strip()]
with open(path, "w") as f:
    f.writelines((lines * (n // len(lines) + 1))[:n])
PY
		else
			note "events: podman's events log is not under $B (events_logger: $($P info --format '{{.Host.EventLogger}}' 2>/dev/null)): podman prints what it has"
		fi
		# podman 4.3 with --until ends after the first event of its file:
		# --stream=false is its way to print the past and exit.
		n=$($P events --since 0 --stream=false 2>/dev/null | wc -l)
		measure events podman "$P events --since 0 --stream=false"
		say "podman printed $n events (--stream=false: its --until stops after one event)."
	fi
	table events skiff docker podman
}

events_goals() {
	echo "Goal of issue 10:"
	echo ""
	local v
	v=$(stat_ms events skiff median)
	if [ -n "$v" ]; then
		awk -v v="$v" -v n="$EVENTS_N" 'BEGIN{ printf "- skiff events of %d events: %.1f ms (goal ≤ 100 ms): %s\n", n, v, (v <= 100 ? "met" : "not met") }'
	else
		echo "- skiff events of $EVENTS_N events: not measured"
	fi
	echo ""
}
