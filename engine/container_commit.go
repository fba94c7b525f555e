package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
	imgspecv1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/skiff-engine/skiff/imagestore"
	"github.com/skiff-engine/skiff/runtime"
	"github.com/skiff-engine/skiff/storage"
)

// runtimeMountPoints are where every container gets a kernel file system
// or one of the files in its directory bind-mounted (runtime's spec):
// what the writable layer holds there is a mount point made for the first
// start, never the container's data, so diff and commit leave it out, as
// Docker's init layer keeps it out of both.
var runtimeMountPoints = []string{"/proc", "/sys", "/dev", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf"}

// ContainerCommitOptions: Reference names the new image ([REPOSITORY[:TAG]],
// empty for none); Changes are Dockerfile instructions applied on top
// (CMD, ENV, ...); Message and Author go into the history entry and the
// config; Pause freezes a running container while its layer is read
// (Docker's default; skipped where there is no freezer, rootless without
// cgroups); Squash makes one layer of the whole file system; Format is
// "oci" (default) or "docker".
type ContainerCommitOptions struct {
	Reference string
	Changes   []string
	Message   string
	Author    string
	Pause     bool
	Squash    bool
	Format    string
}

// ContainerCommitResult carries the new image.
type ContainerCommitResult struct {
	Image imagestore.Image
}

// ContainerCommit makes an image of the container's image plus one layer
// holding exactly what the container changed (whiteouts for deletions),
// with the container's command, environment, user, working directory,
// labels and ports. The container's lock is held throughout, so it cannot
// be started, stopped or removed meanwhile. Bad options create nothing.
func (e *Engine) ContainerCommit(ctx context.Context, ref string, o ContainerCommitOptions) (ContainerCommitResult, error) {
	is, err := e.imageStore()
	if err != nil {
		return ContainerCommitResult{}, err
	}
	c, unlock, err := e.lockedState(ref)
	if err != nil {
		return ContainerCommitResult{}, err
	}
	defer unlock()
	if c.State.Status == runtime.StatusRemoving {
		return ContainerCommitResult{}, fmt.Errorf("container %s is being removed: %w", c.Name, errdefs.ErrConflict)
	}
	img, err := is.Commit(ctx, imagestore.CommitOptions{
		Base: c.ImageID, Reference: o.Reference, Config: commitImageConfig(c),
		Changes: o.Changes, Message: o.Message, Author: o.Author, Squash: o.Squash, Format: o.Format,
		CreatedBy: strings.Join(c.Config.Spec.Args, " "),
		Layer: func(parent string) (storage.Layer, error) {
			if o.Pause {
				thaw, err := e.freezeForCommit(c)
				if err != nil {
					return storage.Layer{}, err
				}
				defer thaw()
			}
			return e.store.CommitLayer(c.ID, storage.CommitLayerOptions{Parent: parent, Squash: o.Squash, Hide: runtimeMountPoints})
		},
	})
	if err != nil {
		return ContainerCommitResult{}, err
	}
	imageRef := ""
	if o.Reference != "" {
		imageRef = taggedName(o.Reference)
		e.imageEvent(ctx, "tag", imageEventID(img.ID), imageRef)
	}
	e.containerEvent(ctx, c, "commit", map[string]string{"comment": o.Message, "imageID": imageEventID(img.ID), "imageRef": imageRef})
	return ContainerCommitResult{Image: img}, nil
}

// commitImageConfig is what Docker's commit takes from the container into
// the image config: the rest stays the image's.
func commitImageConfig(c *Container) imgspecv1.ImageConfig {
	cfg := imgspecv1.ImageConfig{
		Cmd: c.Config.Cmd, Entrypoint: c.Config.Entrypoint, Env: c.Config.Spec.Env,
		User: c.Config.Spec.User, WorkingDir: c.Config.Spec.Cwd, Labels: c.Config.Labels,
		StopSignal: c.Config.StopSignal,
	}
	for _, p := range c.Config.Network.Exposed {
		if cfg.ExposedPorts == nil {
			cfg.ExposedPorts = map[string]struct{}{}
		}
		cfg.ExposedPorts[p.String()] = struct{}{}
	}
	return cfg
}

// freezeForCommit pauses a running container (recorded as paused, so a
// commit killed half way leaves a container that unpause thaws) and
// returns what thaws it. A container that does not run, or that cannot be
// frozen here (no freezer: rootless without cgroups), is committed as it
// is, as podman does.
func (e *Engine) freezeForCommit(c *Container) (func(), error) {
	if c.State.Status != runtime.StatusRunning {
		return func() {}, nil
	}
	// No freezer, or the container exited since its record was read (a
	// commit right after a kill): committed as it is.
	if err := runtime.Pause(e.stateRoot(), c.ID, e.paths.Rootless); errdefs.IsNotImplemented(err) || errdefs.IsConflict(err) {
		return func() {}, nil
	} else if err != nil {
		return nil, err
	}
	running := c.State
	paused := c.State
	paused.Status = runtime.StatusPaused
	if err := e.transition(c, paused); err != nil {
		runtime.Resume(e.stateRoot(), c.ID)
		return nil, err
	}
	return func() {
		runtime.Resume(e.stateRoot(), c.ID)
		e.transition(c, running)
	}, nil
}
