# Sourced by run.sh: the networking part of make bench (ONLY=network runs
# it alone). It uses run.sh's helpers (measure, table, note, as_user,
# docker_start) and defines net_setup, net_figures, net_goals, net_cleanup
# and NET_ROWS, the rows of the summary.
#
# Figures, each engine with its default network beside --network none:
#   - `run --rm busybox true`: skiff rootful (its bridge skiff0, nftables)
#     and rootless (slirp4netns, or its own user-mode network where
#     /dev/net/tun cannot be opened), podman rootful (CNI with the shared
#     containers.conf) and rootless (slirp4netns), docker (its bridge).
#   - iperf3 for IPERF_TIME seconds each way: through a port published on
#     127.0.0.1 (skiff rootless and rootful, podman, docker: its bridge with
#     iptables' DNAT, no userland proxy, so the path is a veth's, what a
#     client from another host gets); from a container to the host's
#     127.0.0.1 through 10.0.2.2 (allow_host_loopback) and to an address
#     of the host through the rootless network's outbound NAT (skiff and
#     podman rootless).
#
#   - `run --rm busybox true` on a user network (benchnet): skiff rootful
#     and rootless (its shared namespace), podman, docker.
#   - A lookup of a container's name on a user network, from a second
#     container: 500 busybox nslookup less 500 busybox true, timed inside
#     one exec, per lookup (skiff rootful and rootless, podman, docker).
#
# Off the host's network: every engine, dockerd and containerd included,
# and every iperf3 server and client of the host side runs in a network
# namespace of its own that this part makes (bound on files in $B/net, with
# only loopback up), one per engine: docker's iptables set the FORWARD
# policy to DROP, which would drop the forwarded traffic of the others'
# bridges, and its docker0 takes 172.17.0.0/16 as skiff0 does. Nothing can
# leave them: they have no route but their own; images are never pulled
# (--pull never: a pull fails there at once). The host's iptables and
# nftables are never touched: those of a namespace go with it.
NB=$B/net
NET_OUT=198.18.0.1  # the host side's non-loopback address (RFC 2544's benchmarking range)
NET_PORT=15201      # the published host port, one more for each server (one whose
                    # container could not be removed may still hold its port)
NET_SPORT=15301     # the port of the host side's iperf3 server
NET_LINES=()        # the report's lines on the engines of this part
NET_PIDS=()         # iperf3 servers of the host side
NET_READY=""        # the namespaces exist
NP=""               # rootful podman's store of this part, when its default network works
NPR=""              # rootless podman's default network works
DN=""               # the docker client of this part's dockerd
NCTRD_PID="" NDOCKERD_PID=""
[ -e /run/netns ] || NET_RUNNETNS_NEW=1  # podman's CNI binds its namespaces there

# in_ns NAME CMD...: CMD in the namespace NAME (skiff, podman, docker).
in_ns() { local n=$1; shift; nsenter --net="$NB/ns.$n" -- "$@"; }
sk_rf() { in_ns skiff "$SKIFF" --root "$NB/s" --runroot "$NB/sr" "$@"; }
sk_rl() { NETNS=$NB/ns.skiff as_user "$SKIFF" "$@"; }
pd_rf() { in_ns podman "$PODMAN" --root "$NB/p" --runroot "$NB/pr" --tmpdir "$NB/pt" --network-config-dir "$NB/pcni" "$@"; }
pd_rl() { NETNS=$NB/ns.podman as_user "$PODMAN" "$@"; }
dk() { $DOCKER --config "$NB/docker-config" -H "unix://$NB/docker.sock" "$@"; }

# iperf3_image TAR: a root filesystem of the host's /usr/bin/iperf3, the
# libraries ldd lists and the dynamic loader, each copied (not its
# symlink) to the path ldd names, /tmp (iperf3 maps its buffers from a
# file there) and an nsswitch.conf that resolves from /etc/hosts only.
# The engines import it as bench/iperf3 (skiff import, podman import,
# docker import).
iperf3_image() {
	local r=$NB/iperf3-root f
	mkdir -p "$r/etc" "$r/tmp"
	chmod 1777 "$r/tmp"
	for f in /usr/bin/iperf3 $(ldd /usr/bin/iperf3 | grep -o '/[^ ]*'); do cp --parents -L "$f" "$r/"; done
	echo 'hosts: files' > "$r/etc/nsswitch.conf"
	tar -C "$r" -cf "$1" .
}

# net_setup: the namespaces, images and stores, and docker's daemons, just
# before the figures (so that they idle during none of the other parts).
net_setup() {
	local n out
	echo "networking part: namespaces, images, a dockerd with its bridge in $NB" >&2
	mkdir -p "$NB"
	for n in skiff podman docker; do
		touch "$NB/ns.$n"
		unshare --net="$NB/ns.$n" ip link set lo up
	done
	NET_READY=1
	# Local delivery goes through lo whatever the address's interface.
	for n in skiff podman; do in_ns "$n" ip addr add "$NET_OUT/32" dev lo; done
	iperf3_image "$B/iperf3.tar"
	bench_user
	cp "$B/iperf3.tar" "$UHOME/"; chown "$BUSER:" "$UHOME/iperf3.tar"

	sk_rf load -q -i "$B/busybox.tar" >/dev/null
	sk_rf import -q "$B/iperf3.tar" bench/iperf3 >/dev/null
	sk_rf network create benchnet >/dev/null
	sk_rl load -q -i "$UHOME/busybox.tar" >/dev/null
	sk_rl import -q "$UHOME/iperf3.tar" bench/iperf3 >/dev/null
	sk_rl network create benchnet >/dev/null
	if as_user sh -c ': <>/dev/net/tun' 2>/dev/null; then
		NET_LINES+=("skiff rootless default network here: slirp4netns")
	else
		NET_LINES+=("skiff rootless default network here: its user-mode network (the bench user cannot open /dev/net/tun: $(stat -c '%a %U' /dev/net/tun 2>/dev/null || echo missing))")
	fi

	if [ -n "$PODMAN_CONF" ]; then  # podman installed and its conf found
		pd_rf load -q -i "$B/busybox.tar" >/dev/null
		pd_rf import -q "$B/iperf3.tar" bench/iperf3 >/dev/null
		if out=$(pd_rf run --rm --pull never busybox true 2>&1); then
			NP=1
			pd_rf network create benchnet >/dev/null 2>&1 || true
			NET_LINES+=("podman rootful default network: $(pd_rf info --format '{{.Host.NetworkBackend}}') (network podman, in memory: a private --network-config-dir)")
		else
			note "networking: rootful podman's default network cannot run here: $(tail -1 <<<"$out")"
		fi
		PR=1
		pd_rl load -q -i "$UHOME/busybox.tar" >/dev/null 2>&1 || true
		pd_rl import -q "$UHOME/iperf3.tar" bench/iperf3 >/dev/null 2>&1 || true
		if out=$(pd_rl run --rm --pull never busybox true 2>&1); then
			NPR=1
			pd_rl network create benchnet >/dev/null 2>&1 || true
		else
			# slirp4netns's error comes quoted, several lines in one: the open's
			out=$(grep -m1 -o 'open([^)]*): [A-Za-z ]*' <<<"$out" | tr -d '\\' || tail -1 <<<"$out")
			note "networking: rootless podman's default network (slirp4netns) cannot run here: $out ($(stat -c '/dev/net/tun is %a, owned by %U' /dev/net/tun 2>/dev/null || echo 'no /dev/net/tun'))"
		fi
	else
		note "networking: podman: ${PODMAN_LINE#podman: }"
	fi

	if [ -z "$DOCKERD" ] || [ -z "$DOCKER" ] || ! command -v containerd >/dev/null; then
		note "networking: docker: dockerd, containerd or the docker client not installed, skipped"
	else
		# Its bridge, iptables and forwarding (the defaults) in its namespace;
		# no IPv6 rules, and DNAT rather than docker-proxy for 127.0.0.1.
		docker_start "$NB" "nsenter --net=$NB/ns.docker --" --ip6tables=false --userland-proxy=false
		NCTRD_PID=$DK_CTRD NDOCKERD_PID=$DK_PID
		if [ -n "$DK_ERR" ]; then
			note "networking: docker: $DK_ERR, skipped"
		else
			DN=1
			dk load -q -i "$B/busybox.tar" >/dev/null
			dk import "$B/iperf3.tar" bench/iperf3 >/dev/null
			dk network create benchnet >/dev/null
			NET_LINES+=("docker of the networking part: $DK_LINE; a second dockerd and containerd in its namespace, with the default bridge docker0 and iptables, --userland-proxy=false")
		fi
	fi
}

# wait_listen PID PORT: waits up to 10 s for a TCP listener on PORT in the
# network namespace of PID (its /proc/PID/net, which needs no tool inside).
wait_listen() {
	local h
	h=$(printf ':%04X' "$2")
	for _ in $(seq 100); do
		awk -v h="$h" '$4 == "0A" && substr($2, length($2) - 4) == h { f = 1 } END { exit !f }' \
			"/proc/$1/net/tcp" "/proc/$1/net/tcp6" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# tput FIG ENGINE CMD...: runs CMD, an iperf3 client that prints its JSON,
# and keeps the receiver's rate, bit/s, in $J/FIG.ENGINE.bps.
tput() {
	local fig=$1 eng=$2 out bps
	shift 2
	if out=$("$@" 2>"$B/ip.err") && bps=$(jq -er '.end.sum_received.bits_per_second' <<<"$out" 2>/dev/null); then
		echo "$bps" > "$J/$fig.$eng.bps"
		printf '  %-7s %s\n' "$eng" "$(fmtv "$fig" "$(value "$fig" "$eng")")"
	else
		note "$fig: $eng failed: $(jq -r '.error // empty' <<<"$out" 2>/dev/null)$(grep -v '^\s*$' "$B/ip.err" | tail -1)"
		[ "$eng" = skiff ] && SKIFF_FAILED=1
	fi
	return 0
}

# pub_pair FIG ENGINE NS CLI...: an iperf3 server in a container of CLI
# with its port 5201 published on 127.0.0.1:NET_PORT; the client in NS
# sends for IPERF_TIME s (FIG_h2c), then receives (-R: FIG_c2h).
pub_pair() {
	local fig=$1 eng=$2 ns=$3 pid
	shift 3
	NET_PORT=$((NET_PORT + 1))
	if ! "$@" run -d --pull never --name bench-iperf -p "127.0.0.1:$NET_PORT:5201" bench/iperf3 \
		/usr/bin/iperf3 -s >/dev/null 2>"$B/ip.err"; then
		note "${fig}: $eng failed: $(tail -1 "$B/ip.err")"
		[ "$eng" = skiff ] && SKIFF_FAILED=1
		return 0
	fi
	pid=$("$@" inspect --format '{{.State.Pid}}' bench-iperf)
	if wait_listen "$pid" 5201; then
		tput "${fig}_h2c" "$eng" in_ns "$ns" iperf3 -c 127.0.0.1 -p "$NET_PORT" -t "$IPERF_TIME" -J
		tput "${fig}_c2h" "$eng" in_ns "$ns" iperf3 -c 127.0.0.1 -p "$NET_PORT" -t "$IPERF_TIME" -R -J
	else
		note "${fig}: $eng: the container's iperf3 server did not listen within 10 s"
	fi
	# kill first: podman's rm -f would wait for the stop timeout
	"$@" kill bench-iperf >/dev/null 2>"$B/rm.err" ||
		note "${fig}: $eng: kill of the server's container failed: $(tail -1 "$B/rm.err")"
	if ! "$@" rm -f bench-iperf >/dev/null 2>"$B/rm.err"; then
		note "${fig}: $eng: rm -f of the server's container failed: $(tail -1 "$B/rm.err")"
		[ "$eng" = skiff ] && SKIFF_FAILED=1
	fi
	return 0
}

# out_pair FIG ENGINE NS BIND TARGET NETWORK CLI...: an iperf3 server in NS
# on BIND:NET_SPORT, and a client in a container of CLI on NETWORK that
# connects to TARGET and sends (FIG_c2h), then receives (-R: FIG_h2c).
out_pair() {
	local fig=$1 eng=$2 ns=$3 bind=$4 target=$5 net=$6 srv r rev
	shift 6
	nsenter --net="$NB/ns.$ns" -- iperf3 -s -B "$bind" -p "$NET_SPORT" >"$B/iperf3-server.log" 2>&1 &
	srv=$!
	NET_PIDS+=("$srv")
	if wait_listen "$srv" "$NET_SPORT"; then
		for r in c2h h2c; do
			rev=; [ "$r" = h2c ] && rev=-R
			tput "${fig}_$r" "$eng" "$@" run --rm --pull never --network "$net" bench/iperf3 \
				/usr/bin/iperf3 -c "$target" -p "$NET_SPORT" -t "$IPERF_TIME" -J $rev
		done
	else
		note "${fig}: the host side's iperf3 server did not listen within 10 s"
	fi
	kill "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null || true
	return 0
}

# dns_time ENGINE CLI: on benchnet, a container bench-web and a client;
# one exec of the client times, by /proc/uptime, 500 lookups of bench-web
# by busybox nslookup, then 500 busybox true; the difference per lookup,
# median of DNS_RUNS execs, is the figure dns_lookup
# ($J/dns_lookup.ENGINE.ms). The exec's own cost is outside both timings.
# CLI is a command line run with $AS (and $NETNS), as measure's.
DNS_LOOP='u() { cut -d" " -f1 /proc/uptime; }; a=$(u); for i in $(seq 500); do nslookup bench-web >/dev/null || exit 1; done; b=$(u); for i in $(seq 500); do busybox true; done; c=$(u); awk -v a=$a -v b=$b -v c=$c "BEGIN { printf \"%.3f\n\", ((b - a) - (c - b)) * 1000 / 500 }"'
dns_time() {
	local eng=$1 cli=$2 i v vals=()
	if ! ${AS:-} sh -c "$cli run -d --pull never --name bench-web --network benchnet busybox sleep 600 && \
		$cli run -d --pull never --name bench-dns --network benchnet busybox sleep 600" >/dev/null 2>"$B/ip.err"; then
		note "dns_lookup: $eng failed: $(tail -1 "$B/ip.err")"
		[ "$eng" = skiff ] && SKIFF_FAILED=1
	elif ! ${AS:-} sh -c "$cli exec bench-dns nslookup bench-web" >/dev/null 2>&1; then
		note "dns_lookup: $eng: its user network resolves no container names here"
	else
		for i in $(seq "${DNS_RUNS:-5}"); do
			v=$(${AS:-} $cli exec bench-dns sh -c "$DNS_LOOP" 2>"$B/ip.err") && vals+=("$v")
		done
		if [ ${#vals[@]} -gt 0 ]; then
			printf '%s\n' "${vals[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }' > "$J/dns_lookup.$eng.ms"
			printf '  %-7s %s ms per lookup\n' "$eng" "$(cat "$J/dns_lookup.$eng.ms")"
		else
			note "dns_lookup: $eng failed: $(tail -1 "$B/ip.err")"
		fi
	fi
	${AS:-} sh -c "$cli rm -f bench-web bench-dns" >/dev/null 2>&1
	return 0
}

# pair_diff FIG ENGINE CMD_A CMD_B: PAIR_ROUNDS rounds (default 20) of
# CMD_A then CMD_B, each run with $AS (and $NETNS) as measure's; the median
# of the per-round differences B − A, in ms, is FIG ($J/FIG.ENGINE.ms).
# Paired rounds keep a change of the machine's speed out of the
# difference, which medians of two separate series let in.
pair_diff() {
	local fig=$1 eng=$2 a=$3 b=$4 i t0 t1 t2 d=()
	for i in $(seq "${PAIR_ROUNDS:-20}"); do
		t0=$(date +%s%N)
		${AS:-} sh -c "$a" >/dev/null 2>"$B/pair.err" || break
		t1=$(date +%s%N)
		${AS:-} sh -c "$b" >/dev/null 2>"$B/pair.err" || break
		t2=$(date +%s%N)
		d+=($(( (t2 - t1) - (t1 - t0) )))
	done
	if [ ${#d[@]} -lt "${PAIR_ROUNDS:-20}" ]; then
		note "$fig: $eng failed: $(tail -1 "$B/pair.err")"
		[ "$eng" = skiff ] && SKIFF_FAILED=1
		return 0
	fi
	printf '%s\n' "${d[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "%.3f\n", v[int((NR + 1) / 2)] / 1e6 }' > "$J/$fig.$eng.ms"
	printf '  %-7s %s\n' "$eng" "$(fmtv "$fig" "$(value "$fig" "$eng")")"
	return 0
}

net_figures() {
	local a
	section "networking: run --rm busybox true, the default network beside --network none"
	for a in "none|--network none" "default|"; do
		echo "  ${a%%|*} network: rootful skiff, podman, docker; rootless skiff, podman" >&2
		AS="in_ns skiff" measure "netrun_${a%%|*}" skiff "$SKIFF --root $NB/s --runroot $NB/sr run --rm ${a#*|} busybox true"
		[ -n "$NP" ] && AS="in_ns podman" measure "netrun_${a%%|*}" podman \
			"$PODMAN --root $NB/p --runroot $NB/pr --tmpdir $NB/pt --network-config-dir $NB/pcni run --rm --pull never ${a#*|} busybox true"
		[ -n "$DN" ] && measure "netrun_${a%%|*}" docker "$DOCKER --config $NB/docker-config -H unix://$NB/docker.sock run --rm --pull never ${a#*|} busybox true"
		NETNS=$NB/ns.skiff AS=as_user measure "netrun_rl_${a%%|*}" skiff "$SKIFF run --rm ${a#*|} busybox true"
		[ -n "$NPR" ] && NETNS=$NB/ns.podman AS=as_user measure "netrun_rl_${a%%|*}" podman "$PODMAN run --rm --pull never ${a#*|} busybox true"
	done
	echo "  paired rounds: the default network − --network none" >&2
	AS="in_ns skiff" pair_diff netpair_rf skiff "$SKIFF --root $NB/s --runroot $NB/sr run --rm --network none busybox true" \
		"$SKIFF --root $NB/s --runroot $NB/sr run --rm busybox true"
	[ -n "$NP" ] && AS="in_ns podman" pair_diff netpair_rf podman \
		"$PODMAN --root $NB/p --runroot $NB/pr --tmpdir $NB/pt --network-config-dir $NB/pcni run --rm --pull never --network none busybox true" \
		"$PODMAN --root $NB/p --runroot $NB/pr --tmpdir $NB/pt --network-config-dir $NB/pcni run --rm --pull never busybox true"
	[ -n "$DN" ] && pair_diff netpair_rf docker "$DOCKER --config $NB/docker-config -H unix://$NB/docker.sock run --rm --pull never --network none busybox true" \
		"$DOCKER --config $NB/docker-config -H unix://$NB/docker.sock run --rm --pull never busybox true"
	NETNS=$NB/ns.skiff AS=as_user pair_diff netpair_rl skiff "$SKIFF run --rm --network none busybox true" "$SKIFF run --rm busybox true"
	[ -n "$NPR" ] && NETNS=$NB/ns.podman AS=as_user pair_diff netpair_rl podman "$PODMAN run --rm --pull never --network none busybox true" "$PODMAN run --rm --pull never busybox true"
	say "Rootful, --network none:"
	say ""
	table netrun_none skiff podman docker
	say "Rootful, the default network (skiff: its bridge; podman: CNI; docker: its bridge):"
	say ""
	table netrun_default skiff podman docker
	say "Rootless (as $BUSER), --network none:"
	say ""
	table netrun_rl_none skiff podman
	say "Rootless, the default network:"
	say ""
	table netrun_rl_default skiff podman
	say "The default network − --network none, medians of ${PAIR_ROUNDS:-20} paired rounds (one run of each, one after the other, per round):"
	say ""
	say "| | skiff | podman | docker |"
	say "|---|---:|---:|---:|"
	for a in rf rl; do
		say "| $([ $a = rf ] && echo rootful || echo rootless) $(for e in skiff podman docker; do printf '| %s ' "$(fmtv netpair_$a "$(value netpair_$a "$e")")"; done)|"
	done
	say ""

	section "networking: user networks"
	echo "  run --rm on a user network: rootful skiff, podman, docker; rootless skiff, podman" >&2
	AS="in_ns skiff" measure netrun_user skiff "$SKIFF --root $NB/s --runroot $NB/sr run --rm --network benchnet busybox true"
	[ -n "$NP" ] && AS="in_ns podman" measure netrun_user podman \
		"$PODMAN --root $NB/p --runroot $NB/pr --tmpdir $NB/pt --network-config-dir $NB/pcni run --rm --pull never --network benchnet busybox true"
	[ -n "$DN" ] && measure netrun_user docker "$DOCKER --config $NB/docker-config -H unix://$NB/docker.sock run --rm --pull never --network benchnet busybox true"
	NETNS=$NB/ns.skiff AS=as_user measure netrun_rl_user skiff "$SKIFF run --rm --network benchnet busybox true"
	[ -n "$NPR" ] && NETNS=$NB/ns.podman AS=as_user measure netrun_rl_user podman "$PODMAN run --rm --pull never --network benchnet busybox true"
	echo "  a container name lookup on a user network" >&2
	AS="in_ns skiff" dns_time skiff "$SKIFF --root $NB/s --runroot $NB/sr"
	[ -n "$NP" ] && AS="in_ns podman" dns_time podman "$PODMAN --root $NB/p --runroot $NB/pr --tmpdir $NB/pt --network-config-dir $NB/pcni"
	[ -n "$DN" ] && dns_time docker "$DOCKER --config $NB/docker-config -H unix://$NB/docker.sock"
	mv "$J/dns_lookup.skiff.ms" "$J/dns_lookup_rf.skiff.ms" 2>/dev/null || true
	NETNS=$NB/ns.skiff AS=as_user dns_time skiff "$SKIFF"
	[ -n "$NPR" ] && NETNS=$NB/ns.podman AS=as_user dns_time podman-rl "$PODMAN"
	mv "$J/dns_lookup.skiff.ms" "$J/dns_lookup_rl.skiff.ms" 2>/dev/null || true
	mv "$J/dns_lookup.podman-rl.ms" "$J/dns_lookup_rl.podman.ms" 2>/dev/null || true
	mv "$J/dns_lookup.podman.ms" "$J/dns_lookup_rf.podman.ms" 2>/dev/null || true
	mv "$J/dns_lookup.docker.ms" "$J/dns_lookup_rf.docker.ms" 2>/dev/null || true
	say "Rootful, a user network:"
	say ""
	table netrun_user skiff podman docker
	say "Rootless, a user network (skiff: its shared namespace):"
	say ""
	table netrun_rl_user skiff podman
	say "A lookup of a container's name from another container of the user network, per lookup (500 busybox nslookup less 500 busybox true, timed inside one exec; median of 5):"
	say ""
	say "| | skiff | podman | docker |"
	say "|---|---:|---:|---:|"
	for a in rf rl; do
		say "| $([ $a = rf ] && echo rootful || echo rootless) $(for e in skiff podman docker; do printf '| %s ' "$(fmtv dns_lookup_$a "$(value dns_lookup_$a "$e")")"; done)|"
	done
	say ""

	section "networking: iperf3, $IPERF_TIME s each way (receiver's rate)"
	echo "  published port, rootless" >&2
	pub_pair tp_pub_rl skiff skiff sk_rl
	[ -n "$NPR" ] && pub_pair tp_pub_rl podman podman pd_rl
	echo "  published port, rootful" >&2
	pub_pair tp_pub_rf skiff skiff sk_rf
	[ -n "$NP" ] && pub_pair tp_pub_rf podman podman pd_rf
	[ -n "$DN" ] && pub_pair tp_pub_rf docker docker dk
	echo "  rootless, to the host's 127.0.0.1 through 10.0.2.2" >&2
	out_pair tp_lo skiff skiff 127.0.0.1 10.0.2.2 slirp4netns:allow_host_loopback=true sk_rl
	[ -n "$NPR" ] && out_pair tp_lo podman podman 127.0.0.1 10.0.2.2 slirp4netns:allow_host_loopback=true pd_rl
	echo "  rootless, to $NET_OUT of the host through the outbound NAT" >&2
	out_pair tp_nat skiff skiff "$NET_OUT" "$NET_OUT" slirp4netns sk_rl
	[ -n "$NPR" ] && out_pair tp_nat podman podman "$NET_OUT" "$NET_OUT" slirp4netns pd_rl
	tp_table
	say "Engines of this part:"
	say ""
	for a in "${NET_LINES[@]}"; do say "- $a"; done
	say ""
}

# The figures of tp_table and the summary, "FIG|label".
NET_ROWS=(
	"netrun_none|run --rm busybox true, --network none (networking part)"
	"netrun_default|run --rm busybox true, default network (skiff bridge, podman CNI, docker bridge)"
	"netrun_default-netrun_none|… its default network − --network none"
	"netrun_rl_none|run --rm busybox true, rootless, --network none (networking part)"
	"netrun_rl_default|run --rm busybox true, rootless, default network"
	"netrun_rl_default-netrun_rl_none|… rootless default network − --network none"
	"netpair_rf|… default network − --network none, paired rounds"
	"netpair_rl|… rootless default network − --network none, paired rounds"
	"netrun_user|run --rm busybox true, a user network"
	"netrun_rl_user|run --rm busybox true, rootless, a user network"
	"dns_lookup_rf|a container name lookup on a user network"
	"dns_lookup_rl|a container name lookup on a user network, rootless"
	"tp_pub_rl_h2c|iperf3 host → container, published port, rootless"
	"tp_pub_rl_c2h|iperf3 container → host, published port, rootless"
	"tp_pub_rf_h2c|iperf3 host → container, published port, rootful"
	"tp_pub_rf_c2h|iperf3 container → host, published port, rootful"
	"tp_lo_c2h|iperf3 container → host's 127.0.0.1 via 10.0.2.2, rootless"
	"tp_lo_h2c|iperf3 host's 127.0.0.1 → container via 10.0.2.2, rootless"
	"tp_nat_c2h|iperf3 container → host's $NET_OUT, outbound NAT, rootless"
	"tp_nat_h2c|iperf3 host's $NET_OUT → container, outbound NAT, rootless"
)

tp_table() {
	local row fig e
	say "| path | skiff | podman | docker |"
	say "|---|---:|---:|---:|"
	for row in "${NET_ROWS[@]}"; do
		fig=${row%%|*}
		case $fig in tp_*) ;; *) continue ;; esac
		say "| ${row#*|} $(for e in skiff podman docker; do printf '| %s ' "$(fmtv "$fig" "$(value "$fig" "$e")")"; done)|"
	done
	say ""
}

# goal_max LABEL MS LIMIT: "- LABEL: x ms (goal ≤ LIMIT ms): met".
goal_max() {
	if [ -n "$2" ]; then
		awk -v l="$1" -v d="$2" -v g="$3" 'BEGIN{ printf "- %s: %.2f ms (goal ≤ %s ms): %s\n", l, d, g, (d <= g ? "met" : "not met") }'
	else
		echo "- $1: not measured"
	fi
}

# net_goals: issue 8's goals, one line each.
net_goals() {
	echo "Goals of issue 8 (networking):"
	echo ""
	goal_ms "skiff rootless, default network − --network none" "$(value netrun_rl_default-netrun_rl_none skiff)" 20
	goal "skiff rootless ÷ podman rootless, both with the default network" "$(value netrun_rl_default skiff)" "$(value netrun_rl_default podman)" 0.3
	goal_ms "skiff rootful, bridge − --network none" "$(value netrun_default-netrun_none skiff)" 20
	goal_ms "skiff rootless, default network − --network none, paired rounds" "$(value netpair_rl skiff)" 20
	goal_ms "skiff rootful, bridge − --network none, paired rounds" "$(value netpair_rf skiff)" 20
	goal_max "a container name lookup on a user network, skiff rootful" "$(value dns_lookup_rf skiff)" 2
	goal_max "a container name lookup on a user network, skiff rootless" "$(value dns_lookup_rl skiff)" 2
	GOAL=min goal "iperf3 host → container, published port: skiff rootless ÷ docker's bridge" "$(value tp_pub_rl_h2c skiff)" "$(value tp_pub_rf_h2c docker)" 0.8
	GOAL=min goal "iperf3 container → host via 10.0.2.2: skiff rootless ÷ podman rootless" "$(value tp_lo_c2h skiff)" "$(value tp_lo_c2h podman)" 1.0
	echo ""
}

# net_cleanup: this part's servers, containers, dockerd and containerd, in
# their namespaces (a networked container removed from another namespace
# would have its rules looked for there). run.sh's clean-up does the rest.
net_cleanup() {
	local ids p
	[ -n "$NET_READY" ] || return 0
	for p in "${NET_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	ids=$(sk_rf ps -q 2>/dev/null); [ -n "$ids" ] && sk_rf rm -f $ids >/dev/null 2>&1
	ids=$(sk_rl ps -q 2>/dev/null); [ -n "$ids" ] && sk_rl rm -f $ids >/dev/null 2>&1
	[ -n "$PODMAN_CONF" ] && [ -d "$NB/p" ] && pd_rf rm -a -f -t 0 >/dev/null 2>&1
	[ -n "$NPR" ] && pd_rl rm -a -f -t 0 >/dev/null 2>&1
	if [ -n "$DN" ]; then
		ids=$(dk ps -q 2>/dev/null); [ -n "$ids" ] && dk rm -f $ids >/dev/null 2>&1
	fi
	docker_stop "$NDOCKERD_PID" "$NCTRD_PID"
	[ -n "${NET_RUNNETNS_NEW:-}" ] && rmdir /run/netns 2>/dev/null
	return 0
}
