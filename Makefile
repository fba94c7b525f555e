# skiff — build, test and demo. Every target works on a fresh Debian 12 machine
# after `make deps` (run as root).

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
GO      ?= go
empty :=
space := $(empty) $(empty)
comma := ,
TAGS    := exclude_graphdriver_btrfs exclude_graphdriver_zfs containers_image_openpgp urfave_cli_no_docs seccomp
export CGO_ENABLED := 1
export GOFLAGS := -tags=$(subst $(space),$(comma),$(TAGS))
# The binaries every container start executes (bin/skiff and the
# monitors, which also run as the container's init) are linked statically:
# a dynamic one pays the loader's work on each of the three execs of a run,
# 2 ms each here. Hence Go's own user and name lookups (osusergo, netgo)
# and SQLite without extension loading (dlopen), which a static glibc
# cannot do. skiff-full, for pulls and the API service, stays dynamic.
STATIC_TAGS := netgo osusergo sqlite_omit_load_extension
STATIC := -ldflags '-linkmode external -extldflags "-static"'
# bin/skiff's build (cmd/skiff/handoff.go)
LOCAL_TAGS := -tags=$(subst $(space),$(comma),$(TAGS) $(STATIC_TAGS) skiff_local)
# bin/skiff-monitor-lean's build (cmd/skiff-monitor/network_lean.go)
LEAN_TAGS := -tags=$(subst $(space),$(comma),$(TAGS) $(STATIC_TAGS) skiff_nonet)
MONITOR_TAGS := -tags=$(subst $(space),$(comma),$(TAGS) $(STATIC_TAGS))

# Debian packages skiff needs at run and test time.
DEB_PKGS := busybox-static docker-registry uidmap slirp4netns libseccomp-dev libc6-dev \
	apache2-utils openssl iproute2 iptables tini gcc make git

# The Docker API's clients the tests drive (besides the docker CLI and the
# moby Go client), installed without recommends: docker-compose's would
# bring a dockerd and start it.
API_PKGS := python3-docker docker-compose curl systemd

# Debian packages only `make bench` needs: the engines it measures skiff
# against and its tools. The tests never need them.
BENCH_PKGS := podman docker.io runc hyperfine jq curl python3 util-linux iperf3

BIN := bin/skiff bin/skiff-full bin/skiff-monitor bin/skiff-monitor-lean bin/skiff-monitor-idle

.PHONY: all build install man deps bench-deps test test-unit test-e2e test-quick demo bench clean

all: build

build: $(BIN)

# Two builds of cmd/skiff (see cmd/skiff/handoff.go): skiff, the CLI of
# the hot commands, without containers/image's registry, archive and
# signature code and the API server (the skiff_local tag), and skiff-full,
# all of it, to which skiff hands the commands that move images or serve
# the API.
bin/skiff: FORCE
	$(GO) build -trimpath $(LOCAL_TAGS) $(STATIC) -o $@ ./cmd/skiff

bin/skiff-full: FORCE
	$(GO) build -trimpath -o $@ ./cmd/skiff

bin/skiff-monitor: FORCE
	$(GO) build -trimpath $(MONITOR_TAGS) $(STATIC) -o $@ ./cmd/skiff-monitor

# The same monitor without the network's code (the skiff_nonet tag), half
# the size and quicker to start, for execs and for containers without a
# network of their own (runtime.ForkMonitor).
bin/skiff-monitor-lean: FORCE
	$(GO) build -trimpath $(LEAN_TAGS) $(STATIC) -o $@ ./cmd/skiff-monitor

# The idle monitor is small on purpose (cmd/skiff-monitor-idle): no cgo, so
# no C runtime, its threads' stacks and libc's pages; no build tags matter.
bin/skiff-monitor-idle: FORCE
	CGO_ENABLED=0 $(GO) build -trimpath -o $@ ./cmd/skiff-monitor-idle

FORCE:

# Man pages from the command definitions (skiff __man), one per command.
man: bin/skiff
	rm -rf bin/man
	./bin/skiff __man bin/man

install: build man
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/
	install -m 0644 bin/man/*.1 $(DESTDIR)$(MANDIR)/man1/

# Idempotent: installs only what is missing.
deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root to install: $$missing" >&2; exit 1; fi; \
		echo "installing: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	@missing=$$(for p in $(API_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root to install: $$missing" >&2; exit 1; fi; \
		echo "installing: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# Idempotent too. Without recommends (fuse-overlayfs would change how
# rootless podman stores layers), and with no service started by the
# packages: a docker.io postinst must not start a dockerd on /var/lib/docker
# with iptables rules (policy-rc.d refuses, unless the host already has one).
bench-deps: deps
	@missing=$$(for p in $(BENCH_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "make bench: run as root to install: $$missing" >&2; exit 1; fi; \
		echo "installing for make bench: $$missing"; \
		guard=; if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; guard=1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; rc=$$?; \
		if [ -n "$$guard" ]; then rm -f /usr/sbin/policy-rc.d; fi; \
		exit $$rc; \
	fi

bin/busybox.tar: $(wildcard test/fixture/*.go test/cmd/mkimage/*.go)
	@mkdir -p bin
	$(GO) run ./test/cmd/mkimage -o $@ -tag busybox:latest

# A container from the bundled busybox image, no network needed.
demo: deps build bin/busybox.tar
	./bin/skiff load -q -i bin/busybox.tar
	./bin/skiff run --rm busybox echo "Hello from skiff: a container with no daemon"

# The unit tests of both builds of cmd/skiff, and a check that bin/skiff
# links none of what it hands to skiff-full, nor the network code that only
# skiff-monitor runs (netns/setup.go).
test-unit:
	$(GO) test ./cmd/... ./engine/... ./runtime/... ./storage/... ./imagestore/... ./netns/... ./userns/...
	$(GO) test $(LOCAL_TAGS) ./cmd/skiff ./engine ./imagestore ./userns
	@heavy=$$($(GO) list $(LOCAL_TAGS) -deps ./cmd/skiff | grep -E '^(go.podman.io/image/v5/(copy|docker|signature)|github.com/skiff-engine/skiff/engine/api)$$'); \
	if [ -n "$$heavy" ]; then echo "bin/skiff links what skiff-full is for: $$heavy" >&2; exit 1; fi
	@monnet=$$($(GO) list $(LOCAL_TAGS) -deps ./cmd/skiff | grep -E '^(gvisor.dev/gvisor/pkg/tcpip|github.com/miekg/dns)$$'); \
	if [ -n "$$monnet" ]; then echo "bin/skiff links the network code only skiff-monitor runs: $$monnet" >&2; exit 1; fi
	@net=$$($(GO) list $(LEAN_TAGS) -deps ./cmd/skiff-monitor | grep -E '^(github.com/skiff-engine/skiff/netns|gvisor.dev/gvisor/pkg/tcpip)$$'); \
	if [ -n "$$net" ]; then echo "bin/skiff-monitor-lean links the network's code: $$net" >&2; exit 1; fi

# End-to-end: the built binaries, real images, a real registry, rootful and
# rootless. As root the suite runs in a network namespace of its own, with
# only loopback: the tests' bridges, nftables rules, published ports and
# registries never touch the host's network.
IN_TEST_NETNS := $(if $(filter 0,$(shell id -u)),unshare --net sh -c 'ip link set lo up && exec "$$0" "$$@"',)
test-e2e: build
	$(GO) test -count=1 ./test/fixture/... ./test/registry/... ./test/cmd/...
	$(GO) test -c -o bin/e2e.test ./test/e2e
	cd test/e2e && $(IN_TEST_NETNS) ../../bin/e2e.test -test.count=1 -test.timeout 40m

test: deps test-unit test-e2e

# Quick iteration: E2E=Pattern limits the end-to-end cases.
test-quick: build
	$(GO) test -c -o bin/e2e.test ./test/e2e
	cd test/e2e && $(IN_TEST_NETNS) ../../bin/e2e.test -test.count=1 -test.timeout 10m -test.run '$(E2E)'

# skiff beside podman, docker and a bare runc in one run (RUNS, PS_N, PULL_RUNS: see the script).
bench: bench-deps build
	./test/bench/run.sh

clean:
	rm -rf bin
