package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"

	"github.com/skiff-engine/skiff/engine"
)

// logsOfSeveral is podman's `logs` of several containers (docker takes
// one): each line starts with the container's short ID and a space; with
// --follow they are followed at once, else printed one container after the
// other. Every container is looked up first, so a wrong name prints nothing.
func logsOfSeveral(ctx context.Context, e *engine.Engine, refs []string, o engine.ContainerLogsOptions) error {
	ids := make([]string, len(refs))
	for i, ref := range refs {
		res, err := e.ContainerInspect(ctx, ref, engine.ContainerInspectOptions{})
		if err != nil {
			return err
		}
		ids[i] = res.Container.ID
	}
	var mu sync.Mutex // one whole line at a time on each stream
	one := func(id string) error {
		po := o
		out := &prefixWriter{w: o.Stdout, mu: &mu, prefix: []byte(id[:12] + " ")}
		errOut := &prefixWriter{w: o.Stderr, mu: &mu, prefix: out.prefix}
		po.Stdout, po.Stderr = out, errOut
		_, err := e.ContainerLogs(ctx, id, po)
		return errors.Join(err, out.flush(), errOut.flush())
	}
	if !o.Follow {
		for _, id := range ids {
			if err := one(id); err != nil {
				return err
			}
		}
		return nil
	}
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = one(id) }()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// prefixWriter writes whole lines, each after prefix; a last line without
// its newline waits for flush.
type prefixWriter struct {
	w      io.Writer
	mu     *sync.Mutex
	prefix []byte
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	var out []byte
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		out = append(append(out, p.prefix...), p.buf[:i+1]...)
		p.buf = p.buf[i+1:]
	}
	if len(out) > 0 {
		p.mu.Lock()
		_, err := p.w.Write(out)
		p.mu.Unlock()
		if err != nil {
			return 0, err
		}
	}
	return len(b), nil
}

func (p *prefixWriter) flush() error {
	if len(p.buf) == 0 {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := p.w.Write(append(append([]byte{}, p.prefix...), p.buf...))
	p.buf = nil
	return err
}
