//go:build !skiff_local

package netns

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"
)

// dnsNames is one reading of a network's names file: who is called what.
// It is never changed once built, so queries share it without a lock.
type dnsNames struct {
	addrs map[string][]netip.Addr // key: lower case, no trailing dot, no DNSDomain
	names map[netip.Addr]string   // PTR target: the first name given to each address
	owner map[netip.Addr]string   // the first name as written: the container's
}

// owns reports whether one of n's addresses is container name's.
func (n *dnsNames) owns(name string) bool {
	for _, o := range n.owner {
		if o == name {
			return true
		}
	}
	return false
}

// with is n, and for names n lacks those of other (n is not changed).
func (n *dnsNames) with(other *dnsNames) *dnsNames {
	m := &dnsNames{addrs: map[string][]netip.Addr{}, names: n.names, owner: n.owner}
	for k, v := range other.addrs {
		m.addrs[k] = v
	}
	for k, v := range n.addrs {
		m.addrs[k] = v
	}
	return m
}

// nameKey is the form names are looked up in: case and a trailing dot do
// not matter, and the search domain may be there or not.
func nameKey(name string) string {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	return strings.TrimSuffix(name, "."+DNSDomain)
}

// parseNames reads /etc/hosts syntax: an address, then its names; a '#'
// starts a comment. Lines that do not parse are skipped, as the C library
// does, so one bad entry does not hide the others.
func parseNames(b []byte) *dnsNames {
	n := &dnsNames{addrs: map[string][]netip.Addr{}, names: map[netip.Addr]string{}, owner: map[netip.Addr]string{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		a, err := netip.ParseAddr(fields[0])
		if err != nil {
			continue
		}
		a = a.Unmap()
		for _, name := range fields[1:] {
			k := nameKey(name)
			if k == "" || hasAddr(n.addrs[k], a) {
				continue
			}
			n.addrs[k] = append(n.addrs[k], a)
		}
		if _, ok := n.names[a]; !ok {
			n.names[a] = ptrName(fields[1])
			n.owner[a] = fields[1]
		}
	}
	return n
}

func hasAddr(list []netip.Addr, a netip.Addr) bool {
	for _, b := range list {
		if a == b {
			return true
		}
	}
	return false
}

// namesFile is the names file and the last reading of it. Each query
// compares the file's inode, size and modification time with the reading's
// (one stat), so a container connected a moment ago answers on the next
// query. Writers should replace the file with a rename: the inode then
// changes even when size and the coarse mtime do not, and a reader never
// sees half a file.
type namesFile struct {
	path string

	mu    sync.Mutex
	stamp fileStamp
	names *dnsNames
}

type fileStamp struct{ ino, size, mtime int64 }

func stampOf(fi fs.FileInfo) fileStamp {
	s := fileStamp{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.ino = int64(st.Ino)
	}
	return s
}

// current returns the names as the file says now. A missing file is a
// network with no names yet.
func (f *namesFile) current() (*dnsNames, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var s fileStamp
	fi, err := os.Stat(f.path)
	switch {
	case err == nil:
		s = stampOf(fi)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("the network's names file: %w", err)
	}
	if f.names != nil && s == f.stamp {
		return f.names, nil
	}
	var b []byte
	if fi != nil {
		if b, err = os.ReadFile(f.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("the network's names file: %w", err)
		}
	}
	f.stamp, f.names = s, parseNames(b)
	return f.names, nil
}
