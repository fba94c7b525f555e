package storage

import "go.podman.io/storage/pkg/directory"

// LayerInfo is one layer's place in the store: its parent and the bytes it
// holds unpacked.
type LayerInfo struct {
	ID     string
	Parent string
	Size   int64
}

// Layers lists every layer of the store by ID, image layers and
// containers' writable layers alike.
func (s *Store) Layers() (map[string]LayerInfo, error) {
	ls, err := s.cs.Layers()
	if err != nil {
		return nil, Err(err)
	}
	out := make(map[string]LayerInfo, len(ls))
	for _, l := range ls {
		out[l.ID] = LayerInfo{ID: l.ID, Parent: l.Parent, Size: max(l.UncompressedSize, 0)}
	}
	return out, nil
}

// Chain is the layer IDs from top down to the base, as far as the layers
// given know them.
func Chain(layers map[string]LayerInfo, top string) []string {
	var out []string
	for id := top; id != ""; id = layers[id].Parent {
		if _, ok := layers[id]; !ok {
			break
		}
		out = append(out, id)
	}
	return out
}

// DirSize is the bytes under dir, a hard-linked file counted once:
// containers/storage's walk (through an os.Root, so a symlink swapped in
// meanwhile cannot take it outside dir), as Docker measures volumes. A
// directory that cannot be walked counts as empty.
func DirSize(dir string) int64 {
	n, err := directory.Size(dir)
	if err != nil {
		return 0
	}
	return n
}
