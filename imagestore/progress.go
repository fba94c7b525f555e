//go:build !skiff_local

package imagestore

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"

	units "github.com/docker/go-units"
	"github.com/moby/moby/api/types/jsonstream"
	"go.podman.io/image/v5/types"
)

// progress reports a pull or push the way Docker does, in one of three
// forms: text lines as the docker CLI prints them (one per finished layer),
// the same redrawn in place on a terminal, or Docker's JSON messages, one a
// line, as the Engine API streams them (every layer event with its bytes
// in progressDetail). Config blobs are not shown (Docker does not show
// them either). A nil *progress reports nothing.
type progress struct {
	w        io.Writer
	terminal bool
	json     bool
	push     bool
	mu       sync.Mutex
	layers   []*layerLine
	byID     map[string]*layerLine
	drawn    int
}

type layerLine struct {
	id     string
	status string
	offset uint64
	size   int64
}

// newProgress reports to w (nil: not at all); push picks the push verbs.
func newProgress(w io.Writer, terminal, asJSON, push bool) *progress {
	if w == nil {
		return nil
	}
	return &progress{w: w, terminal: terminal && !asJSON, json: asJSON, push: push, byID: map[string]*layerLine{}}
}

// say reports one line about the image (id "") or about the tag or layer id.
func (p *progress) say(id, status string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.line(id, status, nil)
}

// aux sends Docker's out-of-band datum (a push's tag, digest and size);
// text progress has no such line.
func (p *progress) aux(v any) {
	if p == nil || !p.json {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	raw := json.RawMessage(b)
	p.mu.Lock()
	defer p.mu.Unlock()
	json.NewEncoder(p.w).Encode(jsonstream.Message{Progress: &jsonstream.Progress{}, Aux: &raw})
}

func (p *progress) line(id, status string, detail *jsonstream.Progress) {
	switch {
	case p.json:
		json.NewEncoder(p.w).Encode(jsonstream.Message{ID: id, Status: status, Progress: detail})
	case id != "":
		fmt.Fprintf(p.w, "%s: %s\n", id, status)
	default:
		fmt.Fprintln(p.w, status)
	}
}

// run consumes events until ch is closed; returns when done.
func (p *progress) run(ch <-chan types.ProgressProperties, done chan<- struct{}) {
	defer close(done)
	for ev := range ch {
		if strings.Contains(ev.Artifact.MediaType, "config") {
			continue
		}
		p.event(ev)
	}
}

// verbs are Docker's words for a layer's states.
func (p *progress) verbs() (start, moving, skipped, done string) {
	if p.push {
		return "Preparing", "Pushing", "Layer already exists", "Pushed"
	}
	return "Pulling fs layer", "Downloading", "Already exists", "Pull complete"
}

func (p *progress) event(ev types.ProgressProperties) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id := ev.Artifact.Digest.Encoded()
	if len(id) > 12 {
		id = id[:12]
	}
	if id == "" {
		return
	}
	l, ok := p.byID[id]
	if !ok {
		l = &layerLine{id: id, size: ev.Artifact.Size}
		p.byID[id] = l
		p.layers = append(p.layers, l)
	}
	start, moving, skipped, done := p.verbs()
	finished := false
	switch ev.Event {
	case types.ProgressEventNewArtifact:
		l.status = "Waiting"
		if p.json {
			l.status = start
		}
	case types.ProgressEventRead:
		l.offset = ev.Offset
		l.status = moving
	case types.ProgressEventSkipped:
		l.status, finished = skipped, true
	case types.ProgressEventDone:
		l.status, finished = done, true
	}
	switch {
	case p.json:
		detail := &jsonstream.Progress{}
		if ev.Event == types.ProgressEventRead {
			detail = &jsonstream.Progress{Current: int64(l.offset), Total: l.size}
		}
		p.line(l.id, l.status, detail)
	case p.terminal:
		p.redraw()
	case finished:
		p.line(l.id, l.status, nil)
	}
}

func (p *progress) redraw() {
	if p.drawn > 0 {
		fmt.Fprintf(p.w, "\x1b[%dA", p.drawn)
	}
	for _, l := range p.layers {
		fmt.Fprintf(p.w, "\x1b[2K%s: %s%s\n", l.id, l.status, bar(l))
	}
	p.drawn = len(p.layers)
}

func bar(l *layerLine) string {
	if l.status != "Downloading" && l.status != "Pushing" || l.size <= 0 {
		return ""
	}
	const width = 40
	done := int(float64(l.offset) / float64(l.size) * width)
	if done > width {
		done = width
	}
	arrow := strings.Repeat("=", done)
	if done < width {
		arrow += ">" + strings.Repeat(" ", width-done-1)
	}
	return fmt.Sprintf(" [%s]  %s/%s", arrow, units.HumanSizeWithPrecision(float64(l.offset), 3), units.HumanSizeWithPrecision(float64(l.size), 3))
}
