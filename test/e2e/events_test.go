package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skiff-engine/skiff/test/fixture"
)

// events shows what happened, in order, with Docker's actions, attributes
// and JSON message; a follower in another process sees events live; the
// table keeps only the newest [events] max.
func TestEvents(t *testing.T) {
	t.Parallel()
	archive := BusyboxArchive(t, fixture.DockerArchive)
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		s.Run("load", "-i", archive).MustSucceed(t)
		if code := s.Run("run", "--rm", "--name", "evrun", "--label", "e2e.role=events", BusyboxTag, "sh", "-c", "exit 3").ExitCode; code != 3 {
			t.Fatalf("run --rm: exit %d, want 3", code)
		}
		past := func(args ...string) []string {
			t.Helper()
			return s.Run(append([]string{"events", "--since", "1m", "--until", "0s"}, args...)...).MustSucceed(t).Lines()
		}
		actions := past("--filter", "container=evrun", "--format", "{{.Action}}")
		if !inOrder(actions, "create", "start", "die", "destroy") {
			t.Errorf("events of run --rm: %q, want create, start, die, destroy in that order", actions)
		}
		if got := past("--filter", "event=die", "--filter", "container=evrun", "--format", `{{index .Actor.Attributes "exitCode"}}`); !slices.Equal(got, []string{"3"}) {
			t.Errorf("die's exitCode: %q, want one die with exitCode 3", got)
		}
		if got := past("--filter", "label=e2e.role=events", "--filter", "event=destroy", "--format", "{{.Actor.Attributes.name}}"); !slices.Equal(got, []string{"evrun"}) {
			t.Errorf("--filter label= and event=destroy: %q, want [evrun]", got)
		}
		checkEventJSON(t, past("--filter", "container=evrun", "--format", "{{json .}}"))
		// podman's --stream=false: the past, then exit; docker's system events.
		if got := s.Run("system", "events", "--since", "1m", "--stream=false", "--filter", "container=evrun", "--format", "{{.Action}}").MustSucceed(t).Lines(); !slices.Equal(got, actions) {
			t.Errorf("--stream=false: %q, want %q", got, actions)
		}
		// The default line: time, type, action, ID, sorted attributes.
		line := past("--filter", "container=evrun", "--filter", "event=create")
		if len(line) != 1 || !strings.Contains(line[0], " container create ") || !strings.HasSuffix(line[0], "(e2e.role=events, image="+BusyboxTag+", name=evrun)") {
			t.Errorf("default format: %q", line)
		}

		// A detached container's life: exec (its end comes from the exec's
		// monitor, through the spool), rename, kill, rm.
		id := s.Run("run", "-d", "--name", "evd", BusyboxTag, "sleep", "60").MustSucceed(t).Out()
		if code := s.Run("exec", "evd", "sh", "-c", "exit 4").ExitCode; code != 4 {
			t.Fatalf("exec: exit %d, want 4", code)
		}
		s.Run("rename", "evd", "evd2").MustSucceed(t)
		s.Run("kill", "evd2").MustSucceed(t)
		s.Run("commit", "evd2", "evcommit:1").MustSucceed(t)
		s.Run("rm", "evd2").MustSucceed(t)
		if got := past("--filter", "event=commit", "--format", `{{.Actor.Attributes.name}} {{.Actor.Attributes.imageRef}} {{slice .Actor.Attributes.imageID 0 7}}`); !slices.Equal(got, []string{"evd2 evcommit:1 sha256:"}) {
			t.Errorf("commit events: %q", got)
		}
		s.Run("save", "-o", filepath.Join(s.Dir, "ev.tar"), "evcommit:1").MustSucceed(t)
		tag := past("--filter", "image=evcommit", "--format", "{{.Action}} {{.Actor.ID}}")
		save := past("--filter", "event=save", "--format", "{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}")
		if len(tag) != 1 || !strings.HasPrefix(tag[0], "tag sha256:") || len(save) != 1 {
			t.Errorf("tag and save events of the committed image: %q, %q", tag, save)
		} else if img := strings.TrimPrefix(tag[0], "tag "); save[0] != "save "+img+" "+img {
			t.Errorf("save event %q, want the image %s as actor and name", save[0], img)
		}
		got := past("--filter", "container="+id[:12], "--format",
			`{{.Action}} {{.Actor.Attributes.name}} {{index .Actor.Attributes "exitCode"}}{{index .Actor.Attributes "signal"}}{{index .Actor.Attributes "oldName"}}`)
		if !inOrder(got, "create evd", "start evd", "exec_create: sh -c exit 4 evd", "exec_start: sh -c exit 4 evd",
			"exec_die evd 4", "rename evd2 evd", "kill evd2 9", "die evd2 137", "destroy evd2") {
			t.Errorf("events of a detached container: %q", got)
		}

		s.Run("tag", BusyboxTag, "evtag:1").MustSucceed(t)
		s.Run("rmi", "evtag:1").MustSucceed(t)
		s.Run("volume", "create", "evvol").MustSucceed(t)
		s.Run("network", "create", "evnet").MustSucceed(t)
		s.Run("volume", "prune", "-f").MustSucceed(t)
		// A container on a network connects at start and disconnects at its end.
		netID := s.Run("network", "inspect", "--format", "{{.Id}}", "evnet").MustSucceed(t).Out()
		ctr := s.Run("run", "-d", "--network", "evnet", BusyboxTag, "true").MustSucceed(t).Out()
		s.Run("wait", ctr).MustSucceed(t)
		s.Run("rm", ctr).MustSucceed(t)
		if got := past("--filter", "network=evnet", "--format", "{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}} {{.Actor.Attributes.type}} {{index .Actor.Attributes \"container\"}}"); !slices.Equal(got, []string{
			"create " + netID + " evnet bridge ", "connect " + netID + " evnet bridge " + ctr, "disconnect " + netID + " evnet bridge " + ctr}) {
			t.Errorf("network events of evnet (%s) and container %s: %q", netID, ctr, got)
		}
		if got := past("--filter", "event=prune", "--format", `{{.Type}} {{.Actor.ID}}{{index .Actor.Attributes "reclaimed"}}`); !slices.Equal(got, []string{"volume 0"}) {
			t.Errorf("volume prune's event: %q, want [volume 0]", got)
		}
		got = past("--filter", "type=image", "--filter", "type=volume", "--filter", "type=network",
			"--format", `{{.Type}} {{.Action}} {{index .Actor.Attributes "name"}}{{index .Actor.Attributes "driver"}}`)
		if !inOrder(got, "image load sha256:", "image tag evtag:1", "image untag sha256:", "volume create local", "network create evnet") {
			t.Errorf("image, volume and network events: %q", got)
		}

		// A follower started before a run sees its events as they happen.
		mark := time.Now()
		follow := s.Cmd("events", "--since", fmt.Sprintf("%d.%09d", mark.Unix(), mark.Nanosecond()), "--filter", "event=create", "--filter", "event=start", "--filter", "event=die",
			"--filter", "event=destroy", "--format", "{{.TimeNano}} {{.Action}}")
		lines, bg := startStreaming(t, follow)
		s.Run("volume", "create", "evready").MustSucceed(t)
		want := []string{"create", "create", "start", "die", "destroy"} // the volume's, then the run's
		var seen []string
		var worst time.Duration
		for len(seen) < len(want) {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("the follower ended after %q\n%s", seen, bg)
				}
				f := strings.Fields(l.Text)
				ns, _ := strconv.ParseInt(f[0], 10, 64)
				if len(seen) > 0 {
					worst = max(worst, l.At.Sub(time.Unix(0, ns)))
				}
				seen = append(seen, f[1])
				if len(seen) == 1 {
					// The follower is past its history: this run is live to it.
					startBackground(t, s.Cmd("run", "--rm", "--name", "evlive", BusyboxTag, "true"))
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("the follower saw only %q in 20s\n%s", seen, bg)
			}
		}
		if !slices.Equal(seen, want) {
			t.Errorf("the follower saw %q, want %q", seen, want)
		}
		t.Logf("a live event reached the follower within %v", worst)
		if worst > 500*time.Millisecond {
			t.Errorf("a live event took %v to reach the follower (its poll is 40 ms)", worst)
		}

		// Bad input: one line, exit 125.
		for _, args := range [][]string{
			{"events", "--filter", "bogus=1", "--until", "0s"},
			{"events", "--since", "yesterday"},
			{"events", "--until", "soon"},
			{"events", "--format", "{{.Nope", "--until", "0s"},
		} {
			r := s.Run(args...).MustFail(t, 125, "")
			if n := len(strings.Split(strings.TrimSpace(r.Stderr), "\n")); n != 1 {
				t.Errorf("%q: %d lines on stderr, want one:\n%s", args, n, r.Stderr)
			}
		}

		// Bounded: with max = 5 only the five newest stay.
		s.SetNetworkConfig(t, "[events]\nmax = 5")
		for i := 1; i <= 7; i++ {
			s.Run("volume", "create", fmt.Sprintf("evbound%d", i)).MustSucceed(t)
		}
		if got := s.Run("events", "--since", "0", "--until", "0s", "--format", "{{.Actor.ID}}").MustSucceed(t).Lines(); !slices.Equal(got, []string{"evbound3", "evbound4", "evbound5", "evbound6", "evbound7"}) {
			t.Errorf("events with max = 5: %q, want the five newest", got)
		}
	})
}

// inOrder reports whether each of want starts some line of got, in order.
func inOrder(got []string, want ...string) bool {
	i := 0
	for _, l := range got {
		if i < len(want) && strings.HasPrefix(l, want[i]) {
			i++
		}
	}
	return i == len(want)
}

// checkEventJSON checks Docker's message keys and the values derived.
func checkEventJSON(t *testing.T, lines []string) {
	t.Helper()
	if len(lines) == 0 {
		t.Fatal("no events as JSON")
	}
	for _, l := range lines {
		var m struct {
			Status, ID, From, Type, Action string
			Scope                          string `json:"scope"`
			Time                           int64  `json:"time"`
			TimeNano                       int64  `json:"timeNano"`
			Actor                          struct {
				ID         string
				Attributes map[string]string
			}
		}
		var keys map[string]json.RawMessage
		if err := json.Unmarshal([]byte(l), &keys); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		for _, k := range []string{"status", "id", "from", "Type", "Action", "Actor", "scope", "time", "timeNano"} {
			if _, ok := keys[k]; !ok {
				t.Errorf("JSON event lacks %q: %s", k, l)
			}
		}
		json.Unmarshal([]byte(l), &m)
		if m.Type != "container" || m.Status != m.Action || m.ID != m.Actor.ID || len(m.ID) != 64 || m.From != BusyboxTag ||
			m.Scope != "local" || m.Time != m.TimeNano/1e9 || m.Actor.Attributes["name"] != "evrun" || m.Actor.Attributes["image"] != BusyboxTag {
			t.Errorf("JSON event: %s", l)
		}
	}
}
