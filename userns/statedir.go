package userns

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// One user's store is used with one run root. The run root depends on the
// environment ($XDG_RUNTIME_DIR), which differs between a desktop session,
// `su`, sudo, cron and CI, so the one in use is recorded where every
// environment of the same user finds it, next to the store:
//
//	<data home>/skiff/runroot   "<run root>\n<boot id>\n", replaced atomically
//
// <data home> is $XDG_DATA_HOME (when absolute) or $HOME/.local/share, i.e.
// the directory of the default rootless graph root. The C constructor reads
// it too (before any namespace is joined), which is why it is a file and not
// a row of the state database.
//
// The recorded run root wins over the computed one while it is usable: it
// was recorded during this boot (/proc/sys/kernel/random/boot_id) and is
// still a directory owned by the user. Otherwise (after a reboot the run
// root, on tmpfs, is gone) the computed one is adopted and recorded.

const recordName = "runroot"

// checkRuntimeDirEnv refuses a relative XDG_RUNTIME_DIR: it would name a
// different directory in every working directory.
func checkRuntimeDirEnv() error {
	if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" && !filepath.IsAbs(x) {
		return fmt.Errorf("XDG_RUNTIME_DIR=%s is not an absolute path: set it to an absolute directory of your own, or unset it", x)
	}
	return nil
}

// computedStateDir is the run root the environment gives:
// $XDG_RUNTIME_DIR/skiff, or /tmp/skiff-run-$HOSTUID when unset.
func computedStateDir() string {
	if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" {
		return x + "/skiff"
	}
	return fmt.Sprintf("/tmp/skiff-run-%d", HostUID())
}

// recordPath is where the run root in use is recorded, "" when the
// environment names no data home.
func recordPath() string {
	if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return d + "/skiff/" + recordName
	}
	if h := os.Getenv("HOME"); filepath.IsAbs(h) {
		return h + "/.local/share/skiff/" + recordName
	}
	return ""
}

// runRootRecord is the content of the record file.
type runRootRecord struct{ dir, bootID string }

func parseRecord(s string) (runRootRecord, bool) {
	dir, rest, _ := strings.Cut(s, "\n")
	boot, _, _ := strings.Cut(rest, "\n")
	if !filepath.IsAbs(dir) || boot == "" {
		return runRootRecord{}, false
	}
	return runRootRecord{dir, boot}, true
}

func (r runRootRecord) String() string { return r.dir + "\n" + r.bootID + "\n" }

// bootID identifies this boot; "" when the kernel does not say.
var bootID = sync.OnceValue(func() string {
	b, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(string(b))
})

// chooseStateDir applies the rule above: the recorded directory when it
// differs from the computed one, is from this boot and is usable.
func chooseStateDir(computed string, rec runRootRecord, ok bool, boot string, usable func(string) bool) (string, bool) {
	if ok && rec.dir != computed && boot != "" && rec.bootID == boot && usable(rec.dir) {
		return rec.dir, true
	}
	return computed, false
}

// usableDir reports a real directory owned by us (the C constructor's
// check). Inside the namespace both sides read as 0.
func usableDir(dir string) bool {
	var st syscall.Stat_t
	return syscall.Lstat(dir, &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFDIR && int(st.Uid) == os.Geteuid()
}

type stateDirChoice struct {
	dir, computed string
	fromRecord    bool
	record        string // the record file, "" when none can be kept
	recorded      runRootRecord
	haveRecord    bool
}

// The environment and the record do not change under a running skiff (Join
// rewrites the record to what was chosen), so the choice is made once.
var stateDirOnce = sync.OnceValue(func() stateDirChoice {
	c := stateDirChoice{computed: computedStateDir(), record: recordPath()}
	if c.record != "" {
		if b, err := os.ReadFile(c.record); err == nil {
			c.recorded, c.haveRecord = parseRecord(string(b))
		}
	}
	c.dir, c.fromRecord = chooseStateDir(c.computed, c.recorded, c.haveRecord, bootID(), usableDir)
	return c
})

// StateDir is the rootless run root, where pause.pid and pause.lock live
// and the engine's default run root: the one recorded for this store while
// it is usable, else $XDG_RUNTIME_DIR/skiff, or /tmp/skiff-run-$HOSTUID when
// XDG_RUNTIME_DIR is unset.
func StateDir() string { return stateDirOnce().dir }

// StateDirNote says why StateDir is not the directory the environment
// gives ("" when it is), for an info-level log line.
func StateDirNote() string {
	if !Rootless() {
		return ""
	}
	c := stateDirOnce()
	if !c.fromRecord {
		return ""
	}
	return fmt.Sprintf("using the run root %s recorded in %s for this store instead of %s (from XDG_RUNTIME_DIR)", c.dir, c.record, c.computed)
}

// remember records StateDir as the run root in use, unless the record
// already says so. Best effort: without a writable data home skiff works as
// before, with the run root the environment gives.
func remember() {
	c := stateDirOnce()
	want := runRootRecord{c.dir, bootID()}
	if c.record == "" || want.bootID == "" || (c.haveRecord && c.recorded == want) {
		return
	}
	if err := os.MkdirAll(filepath.Dir(c.record), 0o700); err != nil {
		return
	}
	tmp := fmt.Sprintf("%s.%d", c.record, os.Getpid())
	if err := os.WriteFile(tmp, []byte(want.String()), 0o600); err != nil {
		return
	}
	if err := os.Rename(tmp, c.record); err != nil && !errors.Is(err, os.ErrNotExist) {
		os.Remove(tmp)
	}
}
