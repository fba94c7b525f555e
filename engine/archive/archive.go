// Package archive reads and writes the tar streams of docker's container
// archive endpoints (GET, PUT and HEAD /containers/{id}/archive) on the
// file system the calling goroutine sees.
//
// It is written to run inside runtime.InContainerFS, on a thread whose
// root is a container's: every function here does all of its file work on
// the calling goroutine (no helper goroutines, which would run on other
// threads and see the host), opens nothing it returns, and resolves paths
// only through the kernel (absolute symlinks and ".." stop at the root the
// thread sees). Bytes cross the boundary through the io.Reader and
// io.Writer the caller passes, never file descriptors.
//
// Entry names follow docker's pkg/archive: the first element of every
// name is the rebase name (the base of the path asked for, "." for a
// trailing "/."), directories end in "/", hard links within the stream are
// tar hard links, and sockets are left out.
package archive

import (
	"os"
	"path/filepath"
	"strings"
	"time"
)

// PathStat is docker's ContainerPathStat, the JSON of the
// X-Docker-Container-Path-Stat header.
type PathStat struct {
	Name       string      `json:"name"`
	Size       int64       `json:"size"`
	Mode       os.FileMode `json:"mode"`
	Mtime      time.Time   `json:"mtime"`
	LinkTarget string      `json:"linkTarget"`
}

// Abs is path as an absolute path in the container, keeping a trailing
// "/" or "/." (which ask for a directory, or for its contents).
func Abs(path string) string {
	abs := filepath.Join("/", path)
	switch {
	case path == "." || strings.HasSuffix(path, "/."):
		if abs != "/" {
			abs += "/"
		}
		abs += "."
	case strings.HasSuffix(path, "/") && abs != "/":
		abs += "/"
	}
	return abs
}

// Resolve is docker's ResolvePath: the symlinks of abs's directory are
// evaluated, its last element is not (so a symlink is stat'ed or archived
// as itself, unless abs ends in "/" or "/.").
func Resolve(abs string) (string, error) {
	dir, base := filepath.Split(abs)
	rdir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", err
	}
	if rdir == "/" {
		return "/" + base, nil
	}
	return rdir + "/" + base, nil
}

// Stat is the stat docker returns for path: lstat of its resolved form,
// with LinkTarget the fully evaluated path of a symlink.
func Stat(path string) (PathStat, error) {
	abs := Abs(path)
	resolved, err := Resolve(abs)
	if err != nil {
		return PathStat{}, err
	}
	fi, err := os.Lstat(resolved)
	if err != nil {
		return PathStat{}, err
	}
	st := PathStat{Name: filepath.Base(abs), Size: fi.Size(), Mode: fi.Mode(), Mtime: fi.ModTime()}
	if fi.Mode()&os.ModeSymlink != 0 {
		st.LinkTarget = evalLink(resolved)
	}
	return st, nil
}

// evalLink follows a symlink to the end; a dangling link's target is the
// path it names (docker's scoped join does not need it to exist).
func evalLink(p string) string {
	if t, err := filepath.EvalSymlinks(p); err == nil {
		return t
	}
	t, err := os.Readlink(p)
	if err != nil {
		return ""
	}
	if !filepath.IsAbs(t) {
		t = filepath.Join(filepath.Dir(p), t)
	}
	return filepath.Clean(t)
}
