package runtime

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// LogReadOptions select what ReadLog copies.
type LogReadOptions struct {
	Follow     bool
	Tail       int // last entries only; -1: all
	Since      time.Time
	Until      time.Time // entries before it only
	Timestamps bool      // prefix each entry with its time
	// StopFollowing ends Follow once it reports true (the container
	// exited) and the log is drained. Nil follows until Until.
	StopFollowing func() bool
}

// logFollowPoll is how often a followed log is checked for new output.
const logFollowPoll = 100 * time.Millisecond

// timestampFormat is docker logs -t's: fixed width, nanoseconds.
const timestampFormat = "2006-01-02T15:04:05.000000000Z07:00"

type logEntry struct {
	time   time.Time
	stream string
	line   []byte // with its "\n" unless partial
}

// ReadLog copies the log of driver (json-file or k8s-file) at path,
// rotated files first, to stdout and stderr by stream. A log not written
// yet is empty. Lines it cannot parse are skipped.
func ReadLog(path, driver string, o LogReadOptions, stdout, stderr io.Writer) error {
	if driver != "" && driver != LogJSONFile && driver != LogK8sFile {
		return fmt.Errorf("the %q log driver keeps no log to read", driver)
	}
	r := &logReader{driver: driver, o: o, out: [2]io.Writer{stdout, stderr}}
	if o.Tail >= 0 {
		r.ring = make([]logEntry, 0, o.Tail)
	}
	for _, p := range rotatedLogs(path) {
		if err := r.readFile(p); err != nil {
			return err
		}
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		f, err = nil, nil
	}
	if err != nil {
		return err
	}
	if f != nil {
		r.partial = nil
		err = r.read(f)
	}
	if err == nil {
		err = r.flushTail()
	}
	if err != nil || !o.Follow || r.done {
		if f != nil {
			f.Close()
		}
		return err
	}
	return r.follow(path, f) // closes f
}

// rotatedLogs lists path.N ... path.1, oldest first.
func rotatedLogs(path string) []string {
	var files []string
	for i := 1; ; i++ {
		p := path + "." + strconv.Itoa(i)
		if _, err := os.Stat(p); err != nil {
			break
		}
		files = append([]string{p}, files...)
	}
	return files
}

type logReader struct {
	driver  string
	o       LogReadOptions
	out     [2]io.Writer
	ring    []logEntry // the last Tail entries while reading history; nil: copy at once
	start   int        // oldest entry in a full ring
	partial []byte     // an unterminated line at the end of a followed file
	done    bool       // an entry reached Until
}

func (r *logReader) readFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil // rotated away meanwhile
	}
	if err != nil {
		return err
	}
	defer f.Close()
	r.partial = nil
	return r.read(f)
}

// read copies f's lines from its current offset to EOF.
func (r *logReader) read(f *os.File) error {
	br := bufio.NewReaderSize(f, 64<<10)
	for !r.done {
		b, err := br.ReadBytes('\n')
		if len(r.partial) > 0 {
			b = append(r.partial, b...)
			r.partial = nil
		}
		if err == io.EOF {
			r.partial = b // the writer is in the middle of this line
			return nil
		}
		if err != nil {
			return err
		}
		if err := r.entry(b); err != nil {
			return err
		}
	}
	return nil
}

func (r *logReader) entry(b []byte) error {
	e, err := parseLogEntry(r.driver, b)
	if err != nil {
		return nil
	}
	if !r.o.Since.IsZero() && e.time.Before(r.o.Since) {
		return nil
	}
	if !r.o.Until.IsZero() && !e.time.Before(r.o.Until) {
		r.done = true
		return nil
	}
	if r.ring == nil {
		return r.write(e)
	}
	if cap(r.ring) == 0 {
		return nil
	}
	if len(r.ring) < cap(r.ring) {
		r.ring = append(r.ring, e)
		return nil
	}
	r.ring[r.start] = e
	r.start = (r.start + 1) % len(r.ring)
	return nil
}

// flushTail writes the entries kept for Tail, and copies from now on.
func (r *logReader) flushTail() error {
	if r.ring == nil {
		return nil
	}
	ring, start := r.ring, r.start
	r.ring = nil
	for i := range ring {
		if err := r.write(ring[(start+i)%len(ring)]); err != nil {
			return err
		}
	}
	return nil
}

func (r *logReader) write(e logEntry) error {
	w := r.out[streamIndex(e.stream)]
	if w == nil {
		return nil
	}
	if r.o.Timestamps {
		b := e.time.AppendFormat(make([]byte, 0, len(timestampFormat)+1+len(e.line)), timestampFormat)
		b = append(b, ' ')
		_, err := w.Write(append(b, e.line...))
		return err
	}
	_, err := w.Write(e.line)
	return err
}

// follow copies what is appended to the log at path (f is open on it at
// its end, or nil when it did not exist), across rotations, until
// StopFollowing reports true and the log is drained, or until Until.
func (r *logReader) follow(path string, f *os.File) error {
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	for {
		stop := r.o.StopFollowing != nil && r.o.StopFollowing()
		// Drain: the current file, then any file that replaced it.
		for {
			if f != nil {
				if err := r.read(f); err != nil || r.done {
					return err
				}
			}
			next, err := replaced(path, f)
			if err != nil {
				return err
			}
			if next == nil {
				break
			}
			if f != nil {
				// Files rotated between f and next were never at path
				// while we looked.
				for _, p := range rotatedBetween(path, f, next) {
					if err := r.readFile(p); err != nil || r.done {
						next.Close()
						return err
					}
				}
				f.Close()
			}
			f, r.partial = next, nil
		}
		if stop || (!r.o.Until.IsZero() && !time.Now().Before(r.o.Until)) {
			return nil
		}
		time.Sleep(logFollowPoll)
	}
}

// replaced opens the file now at path when it is not f (the log rotated,
// or was created); nil when it is f or absent.
func replaced(path string, f *os.File) (*os.File, error) {
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if f != nil {
		cur, err := f.Stat()
		if err != nil {
			return nil, err
		}
		if os.SameFile(st, cur) {
			if off, err := f.Seek(0, io.SeekCurrent); err == nil && off > cur.Size() {
				f.Seek(0, io.SeekStart) // truncated in place (max-file=1)
			}
			return nil, nil
		}
	}
	next, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return next, err
}

// rotatedBetween lists the rotated files newer than old and older than
// next, oldest first. old may have been rotated away (then every rotated
// file is newer), next may have been rotated already.
func rotatedBetween(path string, old, next *os.File) []string {
	oldSt, err1 := old.Stat()
	nextSt, err2 := next.Stat()
	if err1 != nil || err2 != nil {
		return nil
	}
	files := rotatedLogs(path) // oldest first
	from, to := 0, len(files)
	for i, p := range files {
		st, err := os.Stat(p)
		if err != nil {
			continue
		}
		if os.SameFile(st, oldSt) {
			from = i + 1
		}
		if os.SameFile(st, nextSt) {
			to = i
		}
	}
	if from > to {
		return nil
	}
	return files[from:to]
}

// parseLogEntry reads one line of a json-file or k8s-file log.
func parseLogEntry(driver string, b []byte) (logEntry, error) {
	if driver == LogK8sFile {
		return parseK8sEntry(b)
	}
	var j struct {
		Log    string    `json:"log"`
		Stream string    `json:"stream"`
		Time   time.Time `json:"time"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return logEntry{}, err
	}
	return logEntry{time: j.Time, stream: j.Stream, line: []byte(j.Log)}, nil
}

func parseK8sEntry(b []byte) (logEntry, error) {
	b = bytes.TrimSuffix(b, []byte("\n"))
	f := bytes.SplitN(b, []byte(" "), 4)
	if len(f) < 3 {
		return logEntry{}, fmt.Errorf("malformed k8s-file line %q", b)
	}
	t, err := time.Parse(time.RFC3339Nano, string(f[0]))
	if err != nil {
		return logEntry{}, err
	}
	var line []byte
	if len(f) == 4 {
		line = f[3]
	}
	switch string(f[2]) {
	case "F":
		line = append(line, '\n')
	case "P":
	default:
		return logEntry{}, fmt.Errorf("malformed k8s-file tag %q", f[2])
	}
	return logEntry{time: t, stream: string(f[1]), line: line}, nil
}
