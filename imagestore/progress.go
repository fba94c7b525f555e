package imagestore

import (
	"fmt"
	"io"
	"strings"
	"sync"

	units "github.com/docker/go-units"
	"go.podman.io/image/v5/types"
)

// progress prints copy progress the way the docker CLI does: one line per
// layer, redrawn in place on a terminal, appended as each layer finishes
// otherwise. Config blobs are not shown (Docker does not show them either).
type progress struct {
	w        io.Writer
	terminal bool
	verb     string // "Pull complete", "Pushed"
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

func newProgress(w io.Writer, terminal bool, verb string) *progress {
	return &progress{w: w, terminal: terminal, verb: verb, byID: map[string]*layerLine{}}
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
	switch ev.Event {
	case types.ProgressEventNewArtifact:
		l.status = "Waiting"
	case types.ProgressEventRead:
		l.offset = ev.Offset
		l.status = "Downloading"
		if p.verb == "Pushed" {
			l.status = "Pushing"
		}
	case types.ProgressEventSkipped:
		l.status = "Already exists"
		if p.verb == "Pushed" {
			l.status = "Layer already exists"
		}
		p.finish(l)
	case types.ProgressEventDone:
		l.status = p.verb
		p.finish(l)
	}
	if p.terminal {
		p.redraw()
	}
}

// finish prints a finished layer's line when not redrawing a terminal.
func (p *progress) finish(l *layerLine) {
	if !p.terminal {
		fmt.Fprintf(p.w, "%s: %s\n", l.id, l.status)
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
