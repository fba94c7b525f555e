package runtime

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/moby/sys/capability"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// defaultCaps is Docker's default capability set, in Docker's order.
var defaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// maskedPaths and readonlyPaths are Docker's; --privileged drops both.
var (
	maskedPaths = []string{
		"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
		"/proc/sched_debug", "/proc/scsi", "/sys/firmware",
		"/sys/devices/virtual/powercap",
	}
	readonlyPaths = []string{
		"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
	}
)

// containerCaps applies --privileged, --cap-add and --cap-drop as Docker
// does: ALL in --cap-add means every capability but the dropped ones, ALL in
// --cap-drop means only the added ones, otherwise the defaults minus the
// dropped plus the added (an add beats a drop of the same capability).
//
// "Every capability" is this process's bounding set, not the kernel's list
// (podman's choice): a container cannot be given a capability skiff lacks,
// and libcontainer would fail the start with EPERM if asked to. Defaults
// outside the bounding set are left out silently; an explicit --cap-add of
// one is an error.
func containerCaps(o SpecOptions, h host) ([]string, error) {
	bounding, err := h.boundingCaps()
	if err != nil {
		return nil, err
	}
	if o.Privileged {
		return slices.Clone(bounding), nil
	}
	add, err := normalizeCaps(o.CapAdd)
	if err != nil {
		return nil, err
	}
	drop, err := normalizeCaps(o.CapDrop)
	if err != nil {
		return nil, err
	}
	var caps []string
	switch {
	case slices.Contains(add, "ALL"):
		for _, c := range bounding {
			if !slices.Contains(drop, c) {
				caps = append(caps, c)
			}
		}
		return caps, nil
	case !slices.Contains(drop, "ALL"):
		for _, c := range defaultCaps {
			if !slices.Contains(drop, c) && slices.Contains(bounding, c) {
				caps = append(caps, c)
			}
		}
	}
	for _, c := range add {
		if !slices.Contains(bounding, c) {
			return nil, invalidf("capability %s cannot be added: skiff itself does not hold it (not in this process's capability bounding set)", c)
		}
		if !slices.Contains(caps, c) {
			caps = append(caps, c)
		}
	}
	return caps, nil
}

// normalizeCaps turns "net_admin" and "NET_ADMIN" into "CAP_NET_ADMIN" and
// rejects names the capability library does not know. "ALL" stays as is.
func normalizeCaps(names []string) ([]string, error) {
	var out []string
	for _, n := range names {
		n = strings.ToUpper(n)
		if n != "ALL" {
			if !strings.HasPrefix(n, "CAP_") {
				n = "CAP_" + n
			}
			if !slices.ContainsFunc(capability.ListKnown(), func(c capability.Cap) bool { return capName(c) == n }) {
				return nil, invalidf("unknown capability: %q", n)
			}
		}
		out = append(out, n)
	}
	return out, nil
}

// AllCapabilities is what --privileged grants, to run and to exec: every
// capability in skiff's own bounding set (or, if that cannot be read, every
// capability of this kernel).
func AllCapabilities() *specs.LinuxCapabilities {
	caps, err := hostBoundingCaps()
	if err != nil {
		known, _ := capability.ListSupported()
		caps = nil
		for _, c := range known {
			caps = append(caps, capName(c))
		}
	}
	return capSets(caps)
}

// capSets gives a process caps as Docker does: bounding, effective and
// permitted; neither inheritable nor ambient (CVE-2022-24769).
func capSets(caps []string) *specs.LinuxCapabilities {
	return &specs.LinuxCapabilities{
		Bounding:  caps,
		Effective: slices.Clone(caps),
		Permitted: slices.Clone(caps),
	}
}

func capName(c capability.Cap) string {
	return "CAP_" + strings.ToUpper(c.String())
}

// hostBoundingCaps lists the capabilities in this process's bounding set:
// one prctl each, where capability's Load reads and parses
// /proc/self/status (0.13 ms of every create). A capability this kernel
// does not know (EINVAL) is not in the set.
func hostBoundingCaps() ([]string, error) {
	var out []string
	for _, c := range capability.ListKnown() {
		in, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0)
		if errors.Is(err, unix.EINVAL) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading the bounding set: %w", err)
		}
		if in == 1 {
			out = append(out, capName(c))
		}
	}
	return out, nil
}
