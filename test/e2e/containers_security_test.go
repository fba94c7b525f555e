package e2e

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/skiff-engine/skiff/test/fixture"
)

// Docker's security defaults and the flags that change them, as the
// container's own /proc/self/status and system calls show them.
func TestContainerSecurity(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		// status runs a shell in a container with the flags given and
		// returns the fields of /proc/self/status that matter here, and
		// what the probes printed.
		probe := `grep -E '^(CapEff|CapBnd|Seccomp|NoNewPrivs):' /proc/self/status
unshare -U true 2>/dev/null && echo unshare=ok || echo unshare=refused
echo firmware=$(ls /sys/firmware | wc -l)
echo timer_list=$(wc -c </proc/timer_list)
(echo skiff >/proc/sys/kernel/domainname) 2>/dev/null && echo procsys=rw || echo procsys=ro`
		status := func(flags ...string) map[string]string {
			t.Helper()
			args := append(append([]string{"run", "--rm"}, flags...), bb, "sh", "-c", probe)
			out := map[string]string{}
			for _, l := range s.Run(args...).MustSucceed(t).Lines() {
				k, v, ok := strings.Cut(l, ":")
				if !ok {
					k, v, _ = strings.Cut(l, "=")
				}
				out[k] = strings.TrimSpace(v)
			}
			return out
		}
		caps := func(hex string) uint64 {
			n, err := strconv.ParseUint(hex, 16, 64)
			if err != nil {
				t.Fatalf("capability mask %q: %v", hex, err)
			}
			return n
		}
		const dockerDefault = 0xa80425fb // chown dac_override fowner fsetid kill setgid setuid setpcap net_bind_service net_raw sys_chroot mknod audit_write setfcap
		const netAdmin, sysAdmin = 1 << 12, 1 << 21

		def := status()
		if caps(def["CapEff"]) != dockerDefault || caps(def["CapBnd"]) != dockerDefault {
			t.Errorf("default capabilities: CapEff %s CapBnd %s, want Docker's %x", def["CapEff"], def["CapBnd"], dockerDefault)
		}
		if def["Seccomp"] != "2" || def["NoNewPrivs"] != "0" {
			t.Errorf("default: Seccomp %s NoNewPrivs %s, want a filter (2) and 0", def["Seccomp"], def["NoNewPrivs"])
		}
		if def["unshare"] != "refused" {
			t.Errorf("the default seccomp profile let unshare(CLONE_NEWUSER) through")
		}
		if def["firmware"] != "0" || def["timer_list"] != "0" {
			t.Errorf("masked paths: /sys/firmware has %s entries, /proc/timer_list %s bytes; want both empty", def["firmware"], def["timer_list"])
		}
		if def["procsys"] != "ro" {
			t.Errorf("/proc/sys is writable by default")
		}

		if got := status("--cap-drop", "ALL"); caps(got["CapEff"]) != 0 {
			t.Errorf("--cap-drop ALL: CapEff %s", got["CapEff"])
		}
		if got := status("--cap-add", "NET_ADMIN", "--cap-drop", "MKNOD"); caps(got["CapEff"]) != (dockerDefault|netAdmin)&^(1<<27) {
			t.Errorf("--cap-add NET_ADMIN --cap-drop MKNOD: CapEff %s", got["CapEff"])
		}
		if got := status("--security-opt", "no-new-privileges"); got["NoNewPrivs"] != "1" {
			t.Errorf("--security-opt no-new-privileges: NoNewPrivs %s", got["NoNewPrivs"])
		}
		if got := status("--security-opt", "seccomp=unconfined"); got["Seccomp"] != "0" || got["unshare"] != "ok" {
			t.Errorf("seccomp=unconfined: Seccomp %s, unshare %s; want no filter and unshare allowed", got["Seccomp"], got["unshare"])
		}
		// A profile of one's own: Docker's JSON format.
		profile := s.WriteFile("deny-mkdir.json", []byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}`))
		s.Run("run", "--rm", "--security-opt", "seccomp="+profile, bb, "mkdir", "/made").MustFail(t, 1, "Operation not permitted")
		s.Run("run", "--rm", bb, "mkdir", "/made").MustSucceed(t)

		priv := status("--privileged")
		if eff := caps(priv["CapEff"]); eff != caps(priv["CapBnd"]) || eff&sysAdmin == 0 || eff == dockerDefault {
			t.Errorf("--privileged: CapEff %s CapBnd %s, want every capability skiff has, CAP_SYS_ADMIN among them", priv["CapEff"], priv["CapBnd"])
		}
		if priv["Seccomp"] != "0" || priv["firmware"] == "0" {
			t.Errorf("--privileged: Seccomp %s, /sys/firmware entries %s; want no filter and nothing masked", priv["Seccomp"], priv["firmware"])
		}
		// /proc/sys is not remounted read-only; rootless, the kernel still
		// refuses sysctl writes from inside a user namespace.
		if !s.Rootless() && priv["procsys"] != "rw" {
			t.Errorf("--privileged: /proc/sys is not writable")
		}
		requireNoContainers(t, s, "run --rm with security flags")
	})
}

// The default profile treats 32-bit x86 programs as Docker's does: socket
// through the multiplexed socketcall(2) works (the family is out of
// seccomp's reach there), the direct socket(2) is checked like the 64-bit
// one.
func TestSeccompI386(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		for _, p := range []struct {
			name       string
			socketcall bool
			family     uint8
			code       int
		}{
			{"socketcall-unix", true, 1, 0},
			{"socket-unix", false, 1, 0},
			{"socket-vsock", false, 40, 1}, // EPERM, as Docker
		} {
			path := s.WriteFile(p.name, fixture.I386Socket(p.socketcall, p.family))
			if err := os.Chmod(path, 0o755); err != nil {
				t.Fatal(err)
			}
			r := s.Run("run", "--rm", "-v", path+":/"+p.name+":ro", bb, "/"+p.name)
			if r.ExitCode != p.code {
				t.Errorf("i386 %s: exit %d (the errno), want %d\n%s", p.name, r.ExitCode, p.code, r)
			}
		}
	})
}
