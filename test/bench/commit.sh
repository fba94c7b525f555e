# Sourced by run.sh: the commit part of make bench (ONLY=commit runs it
# alone). It uses run.sh's helpers (measure, table, note, as_user,
# bench_user, goal) and defines commit_figures, commit_goals and
# COMMIT_ROWS, the rows of the summary.
#
# Figure: `commit` of an exited busybox container that wrote 100 MB of
# random data to /big (so nothing compresses or deduplicates it), skiff
# beside podman, rootful and rootless (as the bench user). Each run makes
# a new image; the one before is removed, untimed, so every commit writes
# its layer anew.
COMMIT_ROWS=("commit|commit, 100 MB change" "commit_rootless|commit, 100 MB change, rootless")
COMMIT_DD="dd if=/dev/urandom of=/big bs=1M count=100"

commit_figures() {
	section "commit of a container with a 100 MB change (exited; the previous image removed before each run)"
	$S run --name bcommit --network none busybox sh -c "$COMMIT_DD 2>/dev/null" >/dev/null
	measure commit skiff "$S commit bcommit bench/commit:1" "sh -c '$S rmi -f bench/commit:1 >/dev/null 2>&1; true'"
	if [ -n "$P" ]; then
		$P run --name bcommit --network none busybox sh -c "$COMMIT_DD 2>/dev/null" >/dev/null
		measure commit podman "$P commit -q bcommit bench/commit:1" "sh -c '$P rmi -f bench/commit:1 >/dev/null 2>&1; true'"
	fi
	table commit skiff podman
	$S rm -f bcommit >/dev/null; $S rmi -f bench/commit:1 >/dev/null 2>&1 || true
	[ -n "$P" ] && { $P rm -f bcommit >/dev/null; $P rmi -f bench/commit:1 >/dev/null 2>&1 || true; }

	section "commit of a container with a 100 MB change, rootless (as $BUSER)"
	bench_user
	as_user "$SKIFF" load -q -i "$UHOME/busybox.tar" >/dev/null
	as_user "$SKIFF" run --name bcommit --network none busybox sh -c "$COMMIT_DD 2>/dev/null" >/dev/null
	AS=as_user measure commit_rootless skiff "$SKIFF commit bcommit bench/commit:1" "sh -c '$SKIFF rmi -f bench/commit:1 >/dev/null 2>&1; true'"
	if [ -n "$PODMAN_CONF" ]; then
		PR=1
		as_user "$PODMAN" load -q -i "$UHOME/busybox.tar" >/dev/null 2>&1 || true
		if as_user "$PODMAN" run --name bcommit --network none busybox sh -c "$COMMIT_DD 2>/dev/null" >"$B/pod.err" 2>&1; then
			AS=as_user measure commit_rootless podman "$PODMAN commit -q bcommit bench/commit:1" "sh -c '$PODMAN rmi -f bench/commit:1 >/dev/null 2>&1; true'"
		else
			note "rootless podman cannot run a container here: $(tail -1 "$B/pod.err")"
		fi
	fi
	table commit_rootless skiff podman
}

commit_goals() {
	echo "Goal of issue 9:"
	echo ""
	goal "skiff commit ÷ podman commit, 100 MB change" "$(stat_ms commit skiff median)" "$(stat_ms commit podman median)" 1
	goal "skiff commit ÷ podman commit, 100 MB change, rootless" "$(stat_ms commit_rootless skiff median)" "$(stat_ms commit_rootless podman median)" 1
	echo ""
}
