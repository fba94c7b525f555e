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

# Debian packages skiff needs at run and test time.
DEB_PKGS := busybox-static docker-registry uidmap slirp4netns libseccomp-dev \
	apache2-utils openssl iproute2 tini gcc make git

BIN := bin/skiff bin/skiff-monitor

.PHONY: all build install man deps test test-unit test-e2e test-quick demo bench clean

all: build

build: $(BIN)

bin/skiff: FORCE
	$(GO) build -trimpath -o $@ ./cmd/skiff

bin/skiff-monitor: FORCE
	$(GO) build -trimpath -o $@ ./cmd/skiff-monitor

FORCE:

# Man pages from the command definitions (skiff __man), one per command.
man: bin/skiff
	rm -rf bin/man
	./bin/skiff __man bin/man

install: build man
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 bin/skiff bin/skiff-monitor $(DESTDIR)$(BINDIR)/
	install -m 0644 bin/man/*.1 $(DESTDIR)$(MANDIR)/man1/

# Idempotent: installs only what is missing.
deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root to install: $$missing" >&2; exit 1; fi; \
		echo "installing: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

bin/busybox.tar: $(wildcard test/fixture/*.go test/cmd/mkimage/*.go)
	@mkdir -p bin
	$(GO) run ./test/cmd/mkimage -o $@ -tag busybox:latest

# A container from the bundled busybox image, no network needed.
demo: deps build bin/busybox.tar
	./bin/skiff load -q -i bin/busybox.tar
	./bin/skiff run --rm busybox echo "Hello from skiff: a container with no daemon"

test-unit:
	$(GO) test ./cmd/... ./engine/... ./runtime/... ./storage/... ./imagestore/... ./netns/... ./userns/...

# End-to-end: the built binaries, real images, a real registry, rootful and rootless.
test-e2e: build
	$(GO) test -count=1 -timeout 40m ./test/...

test: deps test-unit test-e2e

# Quick iteration: E2E=Pattern limits the end-to-end cases.
test-quick: build
	$(GO) test -count=1 -timeout 10m ./test/e2e -run '$(E2E)'

bench: build
	./test/bench/run.sh

clean:
	rm -rf bin
