package storage

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	cstorage "go.podman.io/storage"
	drivers "go.podman.io/storage/drivers"
	"go.podman.io/storage/pkg/archive"
)

// A container's writable layer holds, besides what its processes changed,
// the mount points the runtime created for its first start when the image
// lacks them (/etc/hosts, /proc, ...: runc makes them in the root
// filesystem). Docker keeps those in a separate init layer; skiff leaves
// them out of diff and commit instead (Hide), so both show exactly what the
// container changed. The file at such a path is never the container's own
// data: its processes see the bind mount (or the kernel filesystem) there.

// Change is one line of `diff`.
type Change struct {
	Kind string // Docker's letters: "A" added, "C" changed, "D" deleted
	Path string // absolute, inside the container
}

// ContainerChanges lists what container id changed against its image,
// sorted by path as Docker prints them. Paths in hide (and below them) are
// left out, and so is a changed directory that held nothing else.
func (s *Store) ContainerChanges(id string, hide []string) ([]Change, error) {
	c, err := s.cs.Container(id)
	if err != nil {
		return nil, Err(err)
	}
	changes, err := s.cs.Changes("", c.LayerID)
	if err != nil {
		return nil, Err(err)
	}
	out := make([]Change, 0, len(changes))
	for _, ch := range changes {
		out = append(out, Change{Kind: ch.Kind.String(), Path: ch.Path})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return filterChanges(out, newHider(hide)), nil
}

// filterChanges drops hidden paths, then the directories ("C" entries)
// whose every change below was hidden. changes is sorted by path.
func filterChanges(changes []Change, h hider) []Change {
	var out []Change
	for i, ch := range changes {
		if h.hidden(ch.Path) {
			continue
		}
		if ch.Kind == "C" && h.onlyHiddenBelow(ch.Path, changes[i+1:]) {
			continue
		}
		out = append(out, ch)
	}
	return out
}

// hider knows the runtime's mount points.
type hider map[string]bool

func newHider(paths []string) hider {
	h := hider{}
	for _, p := range paths {
		h[path.Clean("/"+p)] = true
	}
	return h
}

// hidden reports p or one of its parents is a hidden path.
func (h hider) hidden(p string) bool {
	for p = path.Clean("/" + p); p != "/"; p = path.Dir(p) {
		if h[p] {
			return true
		}
	}
	return false
}

// onlyHiddenBelow reports dir has changes below it and all are hidden;
// rest are the sorted changes after dir.
func (h hider) onlyHiddenBelow(dir string, rest []Change) bool {
	prefix := strings.TrimSuffix(dir, "/") + "/"
	below := false
	for _, ch := range rest {
		if !strings.HasPrefix(ch.Path, prefix) {
			continue // sorted by bytes: "/etc-x" may come before "/etc/a"
		}
		if !h.hidden(ch.Path) {
			return false
		}
		below = true
	}
	return below
}

// Layer is a layer commit made: its storage ID, Docker's diff ID (the
// digest of its uncompressed tar) and that tar's size.
type Layer struct {
	ID     string
	DiffID digest.Digest
	Size   int64
}

// CommitLayerOptions choose what goes into the layer.
type CommitLayerOptions struct {
	// Parent is the layer the new one goes on: the container's image's
	// top layer. Squash ignores it.
	Parent string
	// Squash makes a base layer holding the container's whole file system
	// (the image's layers and its changes); else the layer holds only the
	// changes, with whiteouts for deletions.
	Squash bool
	Hide   []string // see ContainerChanges; not applied with Squash
}

// CommitLayer stores container id's changes (or its whole file system) as
// a new read-only layer. The tar goes straight from the container's layer
// into the new one, without a file in between, and containers/storage
// computes its digest on the way. The caller deletes the layer
// (containers/storage's DeleteLayer) when what it was made for fails.
func (s *Store) CommitLayer(id string, o CommitLayerOptions) (Layer, error) {
	c, err := s.cs.Container(id)
	if err != nil {
		return Layer{}, Err(err)
	}
	var l *cstorage.Layer
	if o.Squash {
		l, err = s.putLayer("", func(w io.Writer) error { return s.exportTo(id, w) })
	} else {
		h := newHider(o.Hide)
		l, err = s.putLayer(o.Parent, func(w io.Writer) error {
			rc, err := s.cs.Diff(o.Parent, c.LayerID, &cstorage.DiffOptions{Compression: ptr(archive.Uncompressed)})
			if err != nil {
				return err
			}
			// Closing rc releases the layer store's lock, which
			// PutLayer takes again once it has read the whole stream.
			return errors.Join(filterTar(w, rc, h), rc.Close())
		})
	}
	if err != nil {
		return Layer{}, Err(err)
	}
	if l.UncompressedDigest == "" {
		s.cs.DeleteLayer(l.ID)
		return Layer{}, fmt.Errorf("layer %s: containers/storage recorded no digest", l.ID)
	}
	return Layer{ID: l.ID, DiffID: l.UncompressedDigest, Size: l.UncompressedSize}, nil
}

func ptr[T any](v T) *T { return &v }

// putLayer makes a layer on parent from the tar that write produces.
//
// containers/storage's Diff holds the layer store's lock until its stream
// is closed, and PutLayer takes that lock too, so one cannot simply feed
// the other. Drivers that stage a layer (overlay: drivers.ApplyDiffStaging)
// read the whole stream without the lock, between a first short locked
// step and the final one: write starts once PutLayer has begun to read,
// which is after that first step. Other drivers (vfs) read it under the
// lock: the tar goes through a temporary file first.
func (s *Store) putLayer(parent string, write func(io.Writer) error) (*cstorage.Layer, error) {
	d, err := s.cs.GraphDriver()
	if err != nil {
		return nil, err
	}
	if _, ok := d.(drivers.ApplyDiffStaging); !ok {
		return s.putLayerSpooled(parent, write)
	}
	pr, pw := io.Pipe()
	started := make(chan struct{})
	type result struct {
		l   *cstorage.Layer
		err error
	}
	done := make(chan result, 1)
	go func() {
		l, _, err := s.cs.PutLayer("", parent, nil, "", false, nil, &firstRead{r: pr, started: started})
		pr.CloseWithError(errors.Join(err, errors.New("layer store stopped reading")))
		done <- result{l, err}
	}()
	select {
	case <-started:
	case r := <-done: // failed before it read anything
		return nil, r.err
	}
	werr := write(pw)
	pw.CloseWithError(werr)
	r := <-done
	if werr != nil {
		if r.err == nil {
			s.cs.DeleteLayer(r.l.ID)
		}
		return nil, werr
	}
	return r.l, r.err
}

// putLayerSpooled is putLayer through a temporary file.
func (s *Store) putLayerSpooled(parent string, write func(io.Writer) error) (*cstorage.Layer, error) {
	// <graphroot>/tmp, beside containers/storage's own directory.
	f, err := os.CreateTemp(filepath.Join(filepath.Dir(s.cs.GraphRoot()), "tmp"), "skiff-layer-")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := write(f); err != nil {
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	l, _, err := s.cs.PutLayer("", parent, nil, "", false, nil, f)
	return l, err
}

// firstRead closes started on the first Read.
type firstRead struct {
	r       io.Reader
	started chan struct{}
	once    bool
}

func (f *firstRead) Read(p []byte) (int, error) {
	if !f.once {
		f.once = true
		close(f.started)
	}
	return f.r.Read(p)
}

// filterTar copies the tar in r to w without the hidden entries, and
// without a directory entry whose every entry below was hidden (a
// directory seen only because a mount point was made in it). Directory
// entries are held until it is known which.
func filterTar(w io.Writer, r io.Reader, h hider) error {
	tr, tw := tar.NewReader(r), tar.NewWriter(w)
	var pending []*tar.Header // directories not written yet, outermost first
	hiddenBelow := map[string]bool{}
	flush := func(name string) error {
		// Leaving a directory's subtree settles it: written unless it
		// only had hidden entries below.
		keep := pending[:0]
		for _, d := range pending {
			dp := tarPath(d.Name)
			switch {
			case name != "" && strings.HasPrefix(name, dp+"/"):
				keep = append(keep, d) // still inside it
			case hiddenBelow[dp]:
			default:
				if err := tw.WriteHeader(d); err != nil {
					return err
				}
			}
		}
		pending = keep
		return nil
	}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		name := tarPath(hdr.Name)
		if err := flush(name); err != nil {
			return err
		}
		if h.hidden(name) {
			for _, d := range pending {
				hiddenBelow[tarPath(d.Name)] = true
			}
			continue
		}
		if hdr.Typeflag == tar.TypeDir {
			pending = append(pending, hdr)
			continue
		}
		// A kept entry settles every directory above it as kept.
		for _, d := range pending {
			if err := tw.WriteHeader(d); err != nil {
				return err
			}
			delete(hiddenBelow, tarPath(d.Name))
		}
		pending = pending[:0]
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
	if err := flush(""); err != nil {
		return err
	}
	return tw.Close()
}

// tarPath is an entry's absolute path in the container.
func tarPath(name string) string { return path.Clean("/" + name) }

// ExportContainer writes a tar of container id's whole file system (its
// image's layers and its changes; not its volumes or bind mounts, which
// live in the container's own mount namespace) to w.
func (s *Store) ExportContainer(id string, w io.Writer) error {
	return Err(s.exportTo(id, w))
}

func (s *Store) exportTo(id string, w io.Writer) error {
	root, err := s.cs.Mount(id, "")
	if err != nil {
		return err
	}
	defer s.cs.Unmount(id, false)
	rc, err := archive.TarWithOptions(root, &archive.TarOptions{Compression: archive.Uncompressed})
	if err != nil {
		return err
	}
	_, err = io.Copy(w, rc)
	return errors.Join(err, rc.Close())
}

// Mountpoint is where container id's root file system is (or would be)
// mounted.
func (s *Store) Mountpoint(id string) (string, error) {
	c, err := s.cs.Container(id)
	if err != nil {
		return "", Err(err)
	}
	l, err := s.cs.Layer(c.LayerID)
	if err != nil {
		return "", Err(err)
	}
	return l.MountPoint, nil
}

// Mounted is how many times container id's root file system is mounted.
func (s *Store) Mounted(id string) (int, error) {
	n, err := s.cs.Mounted(id)
	if errdefs.IsNotFound(Err(err)) {
		return 0, nil
	}
	return n, Err(err)
}
