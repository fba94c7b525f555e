package monitorio

import (
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"
)

// WriteFileAtomic replaces path with data through a temporary file and a
// rename, so that a reader sees the old content or the new, never a part.
// durable fsyncs the file before the rename and the directory after it, so
// that the new content survives a crash of the machine too.
func WriteFileAtomic(path string, data []byte, perm os.FileMode, durable bool) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	fail := func(err error) error {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Chmod(perm); err != nil {
		return fail(err)
	}
	if durable {
		if err := tmp.Sync(); err != nil {
			return fail(err)
		}
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if !durable {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

var spoolSeq atomic.Uint64

// WriteSpoolFile records one event, the JSON document data stamped t, in
// the event spool directory dir (created if missing), under a name that
// sorts by time (the spool is described in skiff's runtime package).
func WriteSpoolFile(dir string, t time.Time, data []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	ns := strconv.FormatInt(t.UnixNano(), 10)
	for len(ns) < 20 {
		ns = "0" + ns
	}
	name := ns + "-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatUint(spoolSeq.Add(1), 10) + ".json"
	return WriteFileAtomic(filepath.Join(dir, name), data, 0o600, false)
}

// AppendSpoolEvent appends a spool event without attributes as
// runtime.SpoolEvent marshals.
func AppendSpoolEvent(b []byte, t time.Time, typ, action, id string) []byte {
	b = append(appendJSONKey(append(b, '{'), true, "time"), '"')
	b = append(t.AppendFormat(b, time.RFC3339Nano), '"')
	b = AppendJSONString(appendJSONKey(b, false, "type"), typ)
	b = AppendJSONString(appendJSONKey(b, false, "action"), action)
	b = AppendJSONString(appendJSONKey(b, false, "id"), id)
	return append(b, '}')
}
