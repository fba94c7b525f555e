package monitorio

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"sync"
	"time"
)

// Container logs (the format is described in skiff's runtime package,
// whose ReadLog reads them; runtime re-exports this writer).

// Log drivers.
const (
	LogJSONFile    = "json-file"
	LogK8sFile     = "k8s-file"
	LogNone        = "none"
	LogPassthrough = "passthrough"
)

// Streams of a log entry.
const (
	StreamStdout = "stdout"
	StreamStderr = "stderr"
)

// MaxLogLine is the longest entry; longer lines are split (Docker's 16 KiB).
const MaxLogLine = 16 << 10

// LogWriter appends a container's output to its log file. It is safe for
// concurrent use by the stdout and stderr copiers.
type LogWriter struct {
	path     string
	k8s      bool
	maxSize  int64
	maxFiles int
	now      func() time.Time

	mu      sync.Mutex
	f       *os.File
	size    int64
	pending [2][]byte // unterminated output of stdout, stderr
	buf     []byte
}

// OpenLog opens (appends to) the log at path for driver json-file (or "")
// or k8s-file.
func OpenLog(path, driver string, maxSize int64, maxFiles int) (*LogWriter, error) {
	if driver != "" && driver != LogJSONFile && driver != LogK8sFile {
		return nil, errors.New("log driver " + strconv.Quote(driver) + " writes no log file")
	}
	w := &LogWriter{path: path, k8s: driver == LogK8sFile, maxSize: maxSize, maxFiles: maxFiles, now: time.Now}
	if err := w.open(os.O_APPEND); err != nil {
		return nil, err
	}
	return w, nil
}

// SetClock replaces the clock that stamps entries (tests).
func (w *LogWriter) SetClock(now func() time.Time) { w.now = now }

func (w *LogWriter) open(flag int) error {
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_CREATE|flag, 0o640)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	w.f, w.size = f, st.Size()
	return nil
}

// Write logs output of stream (StreamStdout or StreamStderr). Complete lines
// are written at once; the unterminated rest waits for its end, for Flush,
// or until it reaches MaxLogLine.
func (w *LogWriter) Write(stream string, p []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	i := streamIndex(stream)
	if len(w.pending[i]) > 0 {
		// The rest that waits below is copied back to the front of the
		// same array (append moves overlapping bytes safely).
		p = append(w.pending[i], p...)
		w.pending[i] = w.pending[i][:0]
	}
	for len(p) > 0 {
		n := bytes.IndexByte(p, '\n')
		switch {
		case n >= 0 && n < MaxLogLine:
			n++
		case len(p) >= MaxLogLine:
			n = MaxLogLine
		default:
			w.pending[i] = append(w.pending[i], p...)
			return nil
		}
		if err := w.entry(stream, p[:n]); err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

// Flush writes unterminated output as partial entries (at exit).
func (w *LogWriter) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var errs []error
	for i, stream := range []string{StreamStdout, StreamStderr} {
		if len(w.pending[i]) > 0 {
			errs = append(errs, w.entry(stream, w.pending[i]))
			w.pending[i] = nil
		}
	}
	return errors.Join(errs...)
}

// Close flushes and closes the file.
func (w *LogWriter) Close() error {
	err := w.Flush()
	return errors.Join(err, w.f.Close())
}

func streamIndex(stream string) int {
	if stream == StreamStderr {
		return 1
	}
	return 0
}

// entry writes one line (with its "\n", or partial without).
func (w *LogWriter) entry(stream string, line []byte) error {
	w.buf = AppendLogEntry(w.buf[:0], w.k8s, w.now(), stream, line)
	if w.maxSize > 0 && w.size > 0 && w.size+int64(len(w.buf)) > w.maxSize {
		if err := w.rotate(); err != nil {
			return err
		}
	}
	n, err := w.f.Write(w.buf)
	w.size += int64(n)
	return err
}

// AppendLogEntry appends one entry of line in the k8s-file format, or
// json-file's.
func AppendLogEntry(b []byte, k8s bool, t time.Time, stream string, line []byte) []byte {
	t = t.UTC()
	if k8s {
		b = t.AppendFormat(b, time.RFC3339Nano)
		b = append(b, ' ')
		b = append(b, stream...)
		if text, ok := bytes.CutSuffix(line, []byte("\n")); ok {
			b = append(b, " F "...)
			b = append(b, text...)
		} else {
			b = append(b, " P "...)
			b = append(b, line...)
		}
		return append(b, '\n')
	}
	b = append(b, `{"log":`...)
	b = AppendJSONString(b, string(line))
	b = append(b, `,"stream":"`...)
	b = append(b, stream...)
	b = append(b, `","time":"`...)
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, "\"}\n"...)
}

// rotate starts a new file; when renaming fails it keeps appending to the
// current one rather than lose output.
func (w *LogWriter) rotate() error {
	w.f.Close()
	flag, err := os.O_TRUNC, error(nil)
	if w.maxFiles > 1 {
		if err = w.shift(); err != nil {
			flag = os.O_APPEND
		}
	}
	return errors.Join(err, w.open(flag))
}

func (w *LogWriter) shift() error {
	for i := w.maxFiles - 1; i > 1; i-- {
		err := os.Rename(w.path+"."+strconv.Itoa(i-1), w.path+"."+strconv.Itoa(i))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return os.Rename(w.path, w.path+".1")
}
