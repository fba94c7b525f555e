package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/runtime"
)

// podman's create/run options that Docker lacks: --replace, --tz,
// --timeout and --rmi. Each is a typed field of ContainerCreateOptions.

// zoneinfoDir is where the host's time zones are (tzdata).
const zoneinfoDir = "/usr/share/zoneinfo"

// applyExtraOptions checks --tz, --timeout and --rmi and records them.
func applyExtraOptions(cfg *ContainerConfig, spec *runtime.SpecOptions, o ContainerCreateOptions) error {
	if o.RunTimeout < 0 {
		return invalid("invalid --timeout %d: use a number of seconds, 0 for no limit", o.RunTimeout)
	}
	cfg.RunTimeout = o.RunTimeout
	if o.RemoveImage && !o.AutoRemove {
		return invalid("--rmi removes the image after the container is removed: add --rm")
	}
	cfg.RemoveImage = o.RemoveImage
	if o.Replace && o.Name == "" {
		return invalid("--replace replaces the container of the same name: add --name")
	}
	if o.Timezone == "" {
		return nil
	}
	zone, err := timezoneFile(o.Timezone)
	if err != nil {
		return err
	}
	for _, m := range spec.Mounts {
		if filepath.Clean(m.Destination) == "/etc/localtime" {
			return invalid("--tz and a mount at /etc/localtime both set the time zone: choose one")
		}
	}
	spec.Mounts = append(spec.Mounts, runtime.Mount{Type: "bind", Source: zone, Destination: "/etc/localtime", Options: []string{"ro"}})
	// The zone's name in TZ only helps where the image has zoneinfo; where
	// it has not (busybox, distroless) libc would fall back to UTC. TZ
	// pointing at the file works with glibc and musl alike.
	env := spec.Env[:0]
	for _, kv := range spec.Env {
		if !strings.HasPrefix(kv, "TZ=") {
			env = append(env, kv)
		}
	}
	spec.Env = append(env, "TZ=:/etc/localtime")
	return nil
}

// timezoneFile is the host's file for a zone name, or the host's own
// /etc/localtime for "local".
func timezoneFile(tz string) (string, error) {
	path := filepath.Join(zoneinfoDir, tz)
	if tz == "local" {
		path = "/etc/localtime"
	} else if filepath.IsAbs(tz) || strings.Contains(tz, "..") {
		return "", invalid("invalid --tz %q: use a zone such as Europe/Paris, or local", tz)
	}
	real, err := filepath.EvalSymlinks(path)
	if err == nil {
		var fi os.FileInfo
		if fi, err = os.Stat(real); err == nil && !fi.Mode().IsRegular() {
			err = fmt.Errorf("not a file")
		}
	}
	if err != nil {
		if tz == "local" {
			return "", invalid("--tz local: the host's /etc/localtime is unusable (%v): name a zone such as Europe/Paris", err)
		}
		return "", invalid("unknown time zone %q: use a name under %s such as Europe/Paris, or local", tz, zoneinfoDir)
	}
	if _, err := time.LoadLocation(strings.TrimPrefix(real, zoneinfoDir+"/")); err != nil && tz != "local" {
		return "", invalid("unknown time zone %q: %v", tz, err)
	}
	return real, nil
}

// replaceContainer is --replace: the container that has the new one's name
// is stopped (its stop signal and timeout) and removed first. One that
// cannot be stopped is left as it is, and the create fails.
func (e *Engine) replaceContainer(ctx context.Context, o ContainerCreateOptions) error {
	if !o.Replace {
		return nil
	}
	old, err := e.lookupContainer(o.Name)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if old.Name != o.Name { // an ID prefix, not the name
		return nil
	}
	if _, err := e.ContainerStop(ctx, old.ID, ContainerStopOptions{Timeout: -1}); err != nil {
		return fmt.Errorf("--replace: cannot stop container %s, which has the name: %w", o.Name, err)
	}
	if _, err := e.ContainerRemove(ctx, old.ID, ContainerRemoveOptions{Force: true}); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("--replace: cannot remove container %s: %w", o.Name, err)
	}
	return nil
}

// removeImageAfter is --rmi, once the --rm container is gone: the image
// as the user named it is removed, as rmi would (a name of an image that
// has others is only untagged), unless another container uses it or it is
// already gone.
func (e *Engine) removeImageAfter(c *Container) {
	if !c.Config.RemoveImage {
		return
	}
	if is, err := e.imageStore(); err == nil {
		is.Remove(firstNonEmpty(c.Config.Image, c.ImageID), false)
	}
}
