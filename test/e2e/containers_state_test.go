package e2e

// The state database and the lifecycle under races and kill -9: one winner
// for every contended decision, and nothing a crash leaves that ps does not
// show or rm cannot remove.

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/skiff-engine/skiff/engine/statedb"
)

// Two starts of one container at once, and a start against a foreground
// run in the window between its monitor's "ready" and the container's
// start: the container runs once, nobody's run is killed.
func TestContainerStartRaces(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		s.Run("create", "--name", "twice", bb, "sh", "-c", "echo run >> /runs; exec sleep 1000").MustSucceed(t)
		var wg sync.WaitGroup
		results := make([]*Result, 4)
		for i := range results {
			wg.Add(1)
			go func() { defer wg.Done(); results[i] = s.Run("start", "twice") }()
		}
		wg.Wait()
		for _, r := range results {
			r.Assert(t, Expect{Stdout: "twice"})
		}
		waitStatus(t, s, "twice", "Up", 5*time.Second)
		if got := s.Run("exec", "twice", "cat", "/runs").MustSucceed(t).Stdout; got != "run\n" {
			t.Errorf("4 parallel starts of a created container: it ran %d times, want once", strings.Count(got, "run"))
		}
		if n := len(monitors(s)); n != 1 {
			t.Errorf("%d monitors after 4 parallel starts, want 1", n)
		}
		s.Run("rm", "-f", "twice").MustSucceed(t)

		// A foreground run, and starts of it as soon as its record exists.
		fg := s.Cmd("run", "--name", "fg", bb, "sh", "-c", "echo run >> /runs; sleep 1; echo finished")
		var out syncBuffer
		fg.Stdout = &out
		bg := startBackground(t, fg)
		eventually(t, 10*time.Second, "the foreground run never created its container", func() bool {
			return s.Run("container", "exists", "fg").ExitCode == 0
		})
		for range 5 {
			if r := s.Run("start", "fg"); r.ExitCode != 0 {
				t.Errorf("start of a container a foreground run is starting:\n%s", r)
			}
		}
		if code := bg.wait(t, 20*time.Second); code != 0 || !strings.Contains(out.String(), "finished") {
			t.Fatalf("the foreground run, raced by starts: exit %d, output %q, want 0 and finished", code, out.String())
		}
		s.Run("start", "-a", "fg").MustSucceed(t) // runs it a second time, in the foreground
		if got := s.Run("logs", "fg").MustSucceed(t).Stdout; got != "finished\n" {
			t.Errorf("logs of the last run %q", got)
		}
		s.Run("rm", "fg").MustSucceed(t)
		requireClean(t, s, "the start races")
	})
}

// Renames and creates racing for one name: exactly one wins, the losers
// exit 125 naming the conflict, and no container is left without a name.
func TestContainerRenameRace(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		const n = 6
		for i := range n {
			s.Run("create", "--name", "r"+string(rune('a'+i)), bb, "true").MustSucceed(t)
		}
		var wg sync.WaitGroup
		results := make([]*Result, n+2)
		for i := range n {
			wg.Add(1)
			go func() { defer wg.Done(); results[i] = s.Run("rename", "r"+string(rune('a'+i)), "target") }()
		}
		for i := n; i < n+2; i++ {
			wg.Add(1)
			go func() { defer wg.Done(); results[i] = s.Run("create", "--name", "target", bb, "true") }()
		}
		wg.Wait()
		wins := 0
		for _, r := range results {
			switch {
			case r.ExitCode == 0:
				wins++
			case r.ExitCode != 125 || !strings.Contains(r.Stderr, "already in use"):
				t.Errorf("a loser of the race for a name should exit 125 'already in use':\n%s", r)
			}
		}
		if wins != 1 {
			t.Fatalf("%d of %d renames and creates to one name won, want exactly 1", wins, n+2)
		}
		names := s.Run("ps", "-a", "--format", "{{.Names}}").MustSucceed(t).Lines()
		slices.Sort(names)
		if len(names) != n && len(names) != n+1 || !slices.Contains(names, "target") || slices.Contains(names, "") {
			t.Fatalf("after the race ps -a lists %q", names)
		}
		s.Run("rename", "target", "target").MustFail(t, 125, "already has")
	})
}

// restart and stop of one container at once: both succeed, the container
// ends either running or stopped with one consistent record, and another
// container is never touched.
func TestContainerRestartAgainstStop(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		s.Run("run", "-d", "--name", "bystander", bb, "sleep", "1000").MustSucceed(t)
		by := containerInit(t, s, "bystander")
		s.Run("run", "-d", "--name", "contended", bb, "sleep", "1000").MustSucceed(t)
		for round := range 3 {
			var wg sync.WaitGroup
			var restart, stop *Result
			wg.Add(2)
			go func() { defer wg.Done(); restart = s.Run("restart", "-t", "1", "contended") }()
			go func() { defer wg.Done(); stop = s.Run("stop", "-t", "1", "contended") }()
			wg.Wait()
			restart.MustSucceed(t)
			stop.MustSucceed(t)
			st := status(t, s, "contended")
			running := strings.HasPrefix(st, "Up")
			if !running && !strings.HasPrefix(st, "Exited") {
				t.Fatalf("round %d: status %q after restart against stop", round, st)
			}
			want := 1 // the bystander's
			if running {
				want = 2
			}
			// A monitor that recorded the exit may take a moment to go.
			eventually(t, 5*time.Second, "the monitors do not match the status", func() bool {
				return len(monitors(s)) == want
			})
			if !running {
				s.Run("start", "contended").MustSucceed(t)
			}
		}
		if !by.alive() {
			t.Fatal("the bystander container was killed")
		}
		s.Run("rm", "-f", "contended", "bystander").MustSucceed(t)
		requireClean(t, s, "restart against stop")
	})
}

// kill -9 of skiff at random points of create, start and rm: afterwards
// ps -a lists every container there is, rm -f removes each, the database is
// sound, and no layer is left without its record.
func TestContainerKill9Cycles(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
		for i := range 50 {
			name := "k9-" + string(rune('a'+i%26)) + string(rune('a'+i/26))
			for _, args := range [][]string{
				{"create", "--name", name, bb, "sleep", "1000"},
				{"start", name},
				{"rm", "-f", name},
			} {
				cmd := s.Cmd(args...)
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				// 0-15 ms catches create's record-then-layer window; some
				// later kills let whole commands through.
				delay := time.Duration(rng.IntN(16)) * time.Millisecond
				if rng.IntN(4) == 0 {
					delay = time.Duration(rng.IntN(150)) * time.Millisecond
				}
				time.Sleep(delay)
				cmd.Process.Signal(syscall.SIGKILL)
				cmd.Wait()
			}
		}
		listed := psIDs(t, s)
		layers := containerLayers(t, s)
		for _, id := range layers {
			if !slices.Contains(listed, id) {
				t.Errorf("layer of container %s has no record that ps -a lists (ps -a: %d containers)", id[:12], len(listed))
			}
		}
		dirs, _ := os.ReadDir(filepath.Join(s.Root, "containers"))
		for _, d := range dirs {
			if !slices.Contains(listed, d.Name()) {
				t.Logf("directory of a container without a record: %s (a kill between mkdir and the row)", d.Name())
			}
		}
		if len(listed) > 0 {
			s.Run(append([]string{"rm", "-f"}, listed...)...).MustSucceed(t)
		}
		checkDatabase(t, s)
		if left := containerLayers(t, s); len(left) > 0 {
			t.Errorf("after rm -f of everything, layers are left: %q", left)
		}
		requireClean(t, s, "kill -9 cycles and rm -f")
	})
}

// A truncated state file of a container whose monitor died: the container
// reads as exited with an unknown code, and rm removes it.
func TestContainerTruncatedState(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		id := s.Run("run", "-d", "--name", "trunc", bb, "sleep", "1000").MustSucceed(t).Out()
		init := containerInit(t, s, "trunc")
		mon := monitorOf(t, s, id)
		if err := os.Truncate(filepath.Join(s.Root, "containers", id, "state.json"), 0); err != nil {
			t.Fatal(err)
		}
		// Its monitor lives: it still runs.
		if st := status(t, s, "trunc"); !strings.HasPrefix(st, "Up") {
			t.Fatalf("with its monitor alive and its state file truncated: %q, want Up", st)
		}
		syscall.Kill(mon.pid, syscall.SIGKILL)
		waitStatus(t, s, "trunc", "Exited (255)", 10*time.Second)
		if e := s.Run("inspect", "-f", "{{.State.Error}}", "trunc").MustSucceed(t).Out(); !strings.Contains(e, "unknown") {
			t.Errorf("State.Error %q should say the exit is unknown", e)
		}
		// The container died with its monitor, and stop has nothing to do.
		eventually(t, 10*time.Second, "the container outlived its monitor", func() bool { return !init.alive() })
		s.Run("stop", "trunc").MustSucceed(t)
		s.Run("rm", "trunc").MustSucceed(t)
		requireClean(t, s, "rm of a container with a truncated state", id)
	})
}

// containerLayers are the IDs of containers/storage's container records.
func containerLayers(t testing.TB, s *Skiff) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.Root, "storage", "overlay-containers", "containers.json"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var recs []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &recs); err != nil {
		t.Fatalf("containers.json: %v", err)
	}
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.ID)
	}
	return ids
}

// checkDatabase runs PRAGMA integrity_check on the runner's state database.
func checkDatabase(t testing.TB, s *Skiff) {
	t.Helper()
	db, err := statedb.Open(context.Background(), filepath.Join(s.Root, "skiff.db"))
	if err != nil {
		t.Fatal(err)
	}
	err = db.IntegrityCheck(context.Background())
	db.Close()
	// Rootless, what sqlite left beside the file must stay the user's.
	for _, suffix := range []string{"-wal", "-shm"} {
		if _, serr := os.Stat(filepath.Join(s.Root, "skiff.db"+suffix)); serr == nil {
			s.Chown(filepath.Join(s.Root, "skiff.db"+suffix))
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}

// 20 clients creating and removing containers of a few shared names in a
// loop: each create either wins its name or is refused as in use, every
// rm removes what it names or finds nothing, and nothing is left behind.
func TestContainerSharedNameLoops(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		const workers, rounds, names = 20, 3, 4
		var wg sync.WaitGroup
		var mu sync.Mutex
		var bad []string
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range rounds {
					name := "shared-" + string(rune('a'+(w+i)%names))
					r := s.Run("create", "--name", name, bb, "true")
					ok := r.ExitCode == 0 || r.ExitCode == 125 && strings.Contains(r.Stderr, "already in use")
					rm := s.Run("rm", "-f", name)
					ok = ok && (rm.ExitCode == 0 || rm.ExitCode == 125 && strings.Contains(rm.Stderr, "No such container"))
					if !ok {
						mu.Lock()
						bad = append(bad, r.String()+rm.String())
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		if len(bad) > 0 {
			t.Fatalf("%d create/rm pairs failed other than by losing a race; first:\n%s", len(bad), bad[0])
		}
		if left := psIDs(t, s); len(left) > 0 {
			s.Run(append([]string{"rm", "-f"}, left...)...).MustSucceed(t)
		}
		checkDatabase(t, s)
		if left := containerLayers(t, s); len(left) > 0 {
			t.Errorf("layers without a record: %q", left)
		}
		requireClean(t, s, "shared-name create/rm loops")
	})
}

// A loop of foreground runs keeps the state database small and whole: each
// run --rm writes about 20 WAL frames, and a foreground start checkpoints
// the WAL while its container runs once it holds 80 (SQLite itself would
// wait for 200, and the WAL file keeps the largest size it reached). Every
// run's events and no container are left, and system check finds nothing.
func TestRunLoopCheckpointsAside(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		const runs = 16 // about 320 frames: past SQLite's 200 without the checkpoints aside
		for i := 0; i < runs; i++ {
			s.Run("run", "--rm", "--name", fmt.Sprintf("loop%d", i), bb, "true").MustSucceed(t)
		}
		st, err := os.Stat(filepath.Join(s.Root, "skiff.db-wal"))
		if err != nil {
			t.Fatal(err)
		}
		// 4 KiB pages and a 24-byte header per frame, after a 32-byte file header.
		if frames := (st.Size() - 32) / (4096 + 24); frames >= 160 {
			t.Errorf("the WAL reached %d frames (%d bytes) in %d runs, want under 160: the foreground runs did not checkpoint it", frames, st.Size(), runs)
		}
		destroyed := s.Run("events", "--since", "5m", "--until", "0s", "--filter", "event=destroy", "--format", "{{.Actor.Attributes.name}}").MustSucceed(t).Lines()
		for i := 0; i < runs; i++ {
			if !slices.Contains(destroyed, fmt.Sprintf("loop%d", i)) {
				t.Errorf("no destroy event of loop%d: %q", i, destroyed)
			}
		}
		if left := s.Run("ps", "-aq").MustSucceed(t).Out(); left != "" {
			t.Errorf("containers left by run --rm: %q", left)
		}
		s.Run("system", "check").Assert(t, Expect{Stdout: "No problems found"})
	})
}
