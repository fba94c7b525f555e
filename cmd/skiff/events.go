package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

// events: Docker's `events`, following by default.

func eventsCommand() *cli.Command {
	return &cli.Command{
		Name:  "events",
		Usage: "get real time events from skiff",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "since", Usage: "show events created since timestamp (2013-01-02T13:23:37Z), unix time or relative (42m)"},
			&cli.StringFlag{Name: "until", Usage: "stream events until this timestamp, unix time or relative time"},
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "filter output by key=value (container, event, image, label, network, scope, type, volume)"},
			&cli.StringFlag{Name: "format", Usage: "Go template, or json"},
			&cli.BoolFlag{Name: "stream", Value: true, Usage: "follow new events; --stream=false prints the past ones and exits (podman)"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, 0); err != nil {
				return err
			}
			o := engine.EventsOptions{Filters: c.StringSlice("filter"), Follow: c.Bool("stream")}
			var err error
			if o.Since, err = parseTime(c.String("since"), "since"); err != nil {
				return err
			}
			if o.Until, err = parseTime(c.String("until"), "until"); err != nil {
				return err
			}
			show, err := eventPrinter(c.String("format"))
			if err != nil {
				return err
			}
			out := newFlushingWriter(os.Stdout, 20*time.Millisecond)
			defer out.Close()
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				return e.Events(ctx, o, func(ev engine.Event) error { return out.Do(func(w io.Writer) error { return show(w, ev) }) })
			})
		},
	}
}

// eventPrinter is Docker's: a Go template over the event message, json
// (one message a line), or by default
//
//	2026-12-02T21:00:00.123456789Z container create ID (image=busybox, name=x)
func eventPrinter(format string) (func(io.Writer, engine.Event) error, error) {
	switch format {
	case "":
		return printEvent, nil
	case "json":
		return func(w io.Writer, ev engine.Event) error { return json.NewEncoder(w).Encode(ev) }, nil
	}
	format = strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(format)
	tmpl, err := template.New("format").Funcs(templateFuncs).Parse(format + "\n")
	if err != nil {
		return nil, fmt.Errorf("invalid --format template: %v", err)
	}
	return func(w io.Writer, ev engine.Event) error {
		if err := tmpl.Execute(w, ev); err != nil {
			return fmt.Errorf("invalid --format template: %v", err)
		}
		return nil
	}, nil
}

func printEvent(w io.Writer, ev engine.Event) error {
	b := make([]byte, 0, 256)
	b = time.Unix(0, ev.TimeNano).AppendFormat(b, "2006-01-02T15:04:05.000000000Z07:00")
	b = append(append(append(append(append(append(b, ' '), ev.Type...), ' '), ev.Action...), ' '), ev.Actor.ID...)
	if len(ev.Actor.Attributes) > 0 {
		keys := make([]string, 0, len(ev.Actor.Attributes))
		for k := range ev.Actor.Attributes {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, " ("...)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = append(append(append(b, k...), '='), ev.Actor.Attributes[k]...)
		}
		b = append(b, ')')
	}
	_, err := w.Write(append(b, '\n'))
	return err
}

// flushingWriter buffers a stream's writes and flushes them within every
// interval: ten thousand past events are one write, a live one reaches
// the reader at once.
type flushingWriter struct {
	mu   sync.Mutex
	bw   *bufio.Writer
	done chan struct{}
	wg   sync.WaitGroup
}

func newFlushingWriter(w io.Writer, every time.Duration) *flushingWriter {
	f := &flushingWriter{bw: bufio.NewWriterSize(w, 64<<10), done: make(chan struct{})}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-f.done:
				return
			case <-t.C:
				f.mu.Lock()
				f.bw.Flush()
				f.mu.Unlock()
			}
		}
	}()
	return f
}

// Do runs fn with the buffer, under the lock.
func (f *flushingWriter) Do(fn func(io.Writer) error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fn(f.bw)
}

// Close stops the flusher and flushes what is left.
func (f *flushingWriter) Close() error {
	close(f.done)
	f.wg.Wait()
	return f.bw.Flush()
}
