# Sourced by run.sh: the cp part of make bench (ONLY=cp runs it alone). It
# uses run.sh's helpers (measure, table, note, as_user, bench_user) and
# defines cp_figures, cp_goals and CP_ROWS, the rows of the summary.
#
# Figures: `cp` of a tree of CP_FILES files, CP_SIZE in all (default 10 000
# files, 1 GiB: 100 directories of 100 files of random bytes), into and
# out of a RUNNING busybox container (sleep), CP_RUNS timed runs each
# (default 3, after one warm-up: each run moves the whole GiB). Before each
# run into the container its copy there is removed, before each run out
# the host's; both untimed. skiff and podman rootful, docker when run.sh
# started it, then skiff and podman rootless (as the bench user, when its
# podman can run a container here).
CP_RUNS=${CP_RUNS:-3}
CP_FILES=${CP_FILES:-10000}
CP_SIZE=${CP_SIZE:-1073741824}
CP_WHAT="$((CP_SIZE >> 20)) MiB, $CP_FILES files"
CP_ROWS=("cp_in|cp of $CP_WHAT into a running container" "cp_out|cp of $CP_WHAT out of a running container"
	"cp_in_rootless|cp into a running container, rootless" "cp_out_rootless|cp out of a running container, rootless")

# cp_tree DIR: the tree, written once (its pages stay cached for every engine).
cp_tree() {
	python3 - "$1" "$CP_FILES" "$CP_SIZE" <<'PY'
import os, sys
root, n, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
per = total // n
dirs = max(1, int(n ** 0.5))
for i in range(n):
    d = os.path.join(root, "d%03d" % (i % dirs))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%05d" % i), "wb") as f:
        f.write(os.urandom(per))
PY
}

# cp_engine FIG_SUFFIX ENGINE CLI: both figures of one engine, with a
# running container bcp; CLI is the engine's command line (as_user's when
# AS=as_user). TREE and OUTDIR are where the tree is and where it goes.
cp_engine() {
	local sfx=$1 eng=$2 cli=$3
	if ! ${AS:-} $cli run -d --name bcp --network none busybox sleep 1000 >"$B/cp.err" 2>&1; then
		note "cp: $eng cannot run its container: $(tail -1 "$B/cp.err")"
		return 0
	fi
	MRUNS=$CP_RUNS measure "cp_in$sfx" "$eng" "$cli cp $TREE bcp:/data" "$cli exec bcp rm -rf /data"
	${AS:-} $cli cp "$TREE" bcp:/data >/dev/null 2>&1 || true  # what the figure out copies
	MRUNS=$CP_RUNS measure "cp_out$sfx" "$eng" "$cli cp bcp:/data $OUTDIR" "rm -rf $OUTDIR"
	${AS:-} rm -rf "$OUTDIR"
	${AS:-} $cli rm -f bcp >/dev/null 2>&1 || true
	return 0
}

cp_figures() {
	section "cp of $CP_WHAT into and out of a running container ($CP_RUNS runs each)"
	TREE=$B/cptree OUTDIR=$B/cpout
	cp_tree "$TREE"
	cp_engine "" skiff "$S"
	[ -n "$P" ] && cp_engine "" podman "$P"
	[ -n "$D" ] && cp_engine "" docker "$D"
	rm -rf "$TREE"
	table cp_in skiff podman docker
	table cp_out skiff podman docker

	bench_user
	section "cp of the same tree, rootless (as $BUSER)"
	TREE=$UHOME/cptree OUTDIR=$UHOME/cpout
	mkdir -p "$TREE"
	cp_tree "$TREE"
	chown -R "$BUSER:" "$TREE"
	as_user "$SKIFF" load -q -i "$UHOME/busybox.tar" >/dev/null
	AS=as_user cp_engine _rootless skiff "$SKIFF"
	if [ -n "$PODMAN_CONF" ]; then
		PR=1
		as_user "$PODMAN" load -q -i "$UHOME/busybox.tar" >/dev/null 2>&1 || true
		AS=as_user cp_engine _rootless podman "$PODMAN"
	fi
	rm -rf "$TREE"
	table cp_in_rootless skiff podman
	table cp_out_rootless skiff podman
}

cp_goals() {
	echo "Goals of issue 9 (cp of $CP_WHAT, 1 GiB and 10 000 by default, running container: no slower than podman):"
	echo ""
	goal "skiff cp in ÷ podman cp in" "$(stat_ms cp_in skiff median)" "$(stat_ms cp_in podman median)" 1
	goal "skiff cp out ÷ podman cp out" "$(stat_ms cp_out skiff median)" "$(stat_ms cp_out podman median)" 1
	goal "skiff cp in ÷ podman cp in, rootless" "$(stat_ms cp_in_rootless skiff median)" "$(stat_ms cp_in_rootless podman median)" 1
	goal "skiff cp out ÷ podman cp out, rootless" "$(stat_ms cp_out_rootless skiff median)" "$(stat_ms cp_out_rootless podman median)" 1
	echo ""
}
