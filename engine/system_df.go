package engine

import (
	"context"

	"github.com/skiff-engine/skiff/storage"
)

// SystemDfOptions tune SystemDf (none yet: sizes are always measured, as
// Docker's /system/df does).
type SystemDfOptions struct{}

// SystemDfResult is Docker's disk usage document: every image with the
// bytes it shares with others, every container with its writable layer,
// every volume with its links, and LayersSize, the bytes of all image
// layers counted once.
type SystemDfResult struct {
	LayersSize int64
	Images     []ImageUsage
	Containers []ContainerUsage
	Volumes    []VolumeUsage
}

// ImageUsage is one image's share of the store: Size counts all its
// layers, SharedSize those another image uses too; Containers is how many
// containers (any state) were made from it.
type ImageUsage struct {
	Image
	SharedSize int64
	UniqueSize int64
	Containers int
}

// ContainerUsage is one container with its sizes (Docker's SizeRw and
// SizeRootFs) and the count of volumes it mounts.
type ContainerUsage struct {
	*Container
	SizeRw       int64
	SizeRootFs   int64
	LocalVolumes int
}

// VolumeUsage is one volume, its size and how many containers mount it.
type VolumeUsage struct {
	Name  string
	Links int
	Size  int64
}

// SystemDf measures what the store holds. It walks every container's
// writable layer and every volume: its cost grows with what they hold.
func (e *Engine) SystemDf(ctx context.Context, o SystemDfOptions) (SystemDfResult, error) {
	var res SystemDfResult
	is, err := e.imageStore()
	if err != nil {
		return res, err
	}
	imgs, err := is.List()
	if err != nil {
		return res, err
	}
	layers, err := e.store.Layers()
	if err != nil {
		return res, err
	}
	list, err := e.listMatching(ContainerListOptions{All: true}, e.containerFilterSpec())
	if err != nil {
		return res, err
	}
	users := map[string]int{} // image ID → containers
	for _, c := range list {
		users[c.Config.ImageID]++
	}
	// A layer is shared when the chains of two images hold it.
	holders := map[string]int{}
	chains := make([][]string, len(imgs))
	for i, img := range imgs {
		chains[i] = storage.Chain(layers, img.TopLayer)
		for _, id := range chains[i] {
			holders[id]++
		}
	}
	for id := range holders {
		res.LayersSize += layers[id].Size
	}
	for i, img := range imgs {
		// Docker's image size here is its layers' bytes, no metadata.
		var size, shared int64
		for _, id := range chains[i] {
			size += layers[id].Size
			if holders[id] > 1 {
				shared += layers[id].Size
			}
		}
		u := ImageUsage{Image: img, SharedSize: shared, UniqueSize: size - shared, Containers: users[img.ID]}
		u.Size = size
		res.Images = append(res.Images, u)
	}
	for _, c := range list {
		u := ContainerUsage{Container: c, LocalVolumes: countVolumes(c)}
		if rw, rootfs, err := e.store.ContainerSizes(c.ID); err == nil { // one being removed meanwhile has none
			u.SizeRw, u.SizeRootFs = rw, rootfs
		}
		res.Containers = append(res.Containers, u)
	}
	res.Volumes, err = e.volumeUsage(ctx, list)
	return res, err
}

// countVolumes is how many volumes a container mounts.
func countVolumes(c *Container) int {
	n := 0
	for _, m := range c.Config.Spec.Mounts {
		if m.Type == "volume" {
			n++
		}
	}
	return n
}

// volumeUsage is every volume with its size and the containers of list
// that mount it.
func (e *Engine) volumeUsage(ctx context.Context, list []*Container) ([]VolumeUsage, error) {
	all, err := e.volumes(ctx)
	if err != nil {
		return nil, err
	}
	users := usersOfVolumes(list)
	out := make([]VolumeUsage, 0, len(all))
	for _, v := range all {
		out = append(out, VolumeUsage{Name: v.Name, Links: len(users[v.Name]), Size: storage.DirSize(v.Mountpoint)})
	}
	return out, nil
}
