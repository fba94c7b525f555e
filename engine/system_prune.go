package engine

import (
	"context"
	"strings"
)

// SystemPruneOptions are `system prune`'s (Docker's).
type SystemPruneOptions struct {
	All     bool     // every unused image, not only dangling ones
	Volumes bool     // unused anonymous volumes too
	Filters []string // until=, label=, label!= (until not for volumes)
}

// SystemPruneResult is what went, in Docker's order.
type SystemPruneResult struct {
	Containers, Networks, Images, Volumes []string
	SpaceReclaimed                        int64
}

// SystemPrune removes stopped containers, unused user networks, dangling
// (with All: unused) images and, with Volumes, unused anonymous volumes,
// in that order, so that what the containers held is unused by then. A bad
// filter is refused before anything is removed.
func (e *Engine) SystemPrune(ctx context.Context, o SystemPruneOptions) (SystemPruneResult, error) {
	var res SystemPruneResult
	f, err := ParseFilters(o.Filters)
	if err != nil {
		return res, err
	}
	for _, key := range []string{"until", "label", "label!"} {
		delete(f, key)
	}
	for key := range f {
		return res, invalid("invalid filter %q for system prune: use until, label or label!", key)
	}
	c, err := e.ContainerPrune(ctx, ContainerPruneOptions{Filters: o.Filters})
	res.Containers, res.SpaceReclaimed = c.Removed, c.SpaceReclaimed
	if err != nil {
		return res, err
	}
	n, err := e.NetworkPrune(ctx, o.Filters)
	res.Networks = n.Removed
	if err != nil {
		return res, err
	}
	i, err := e.ImagePrune(ctx, ImagePruneOptions{All: o.All, Filters: o.Filters})
	res.Images, res.SpaceReclaimed = i.Deleted, res.SpaceReclaimed+i.Reclaimed
	if err != nil || !o.Volumes {
		return res, err
	}
	var vf []string
	for _, x := range o.Filters {
		if !strings.HasPrefix(x, "until=") { // volumes have no creation filter in Docker's prune
			vf = append(vf, x)
		}
	}
	v, err := e.VolumePrune(ctx, VolumePruneOptions{Filters: vf})
	res.Volumes, res.SpaceReclaimed = v.Removed, res.SpaceReclaimed+v.SpaceReclaimed
	return res, err
}
