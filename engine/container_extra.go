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

// podman's create/run options that Docker lacks: Replace, Timezone,
// RunTimeout and RemoveImage (--replace, --tz, --timeout and --rmi). Each
// is a typed field of ContainerCreateOptions; RunTimeout needs no check
// (unsigned), RemoveImage acts only with AutoRemove.

// zoneinfoDir is where the host's time zones are (tzdata).
const zoneinfoDir = "/usr/share/zoneinfo"

// applyTimezone is Timezone: the zone's file bound at /etc/localtime, and
// TZ pointing at it.
func applyTimezone(spec *runtime.SpecOptions, tz string) error {
	if tz == "" {
		return nil
	}
	zone, err := timezoneFile(tz)
	if err != nil {
		return err
	}
	for _, m := range spec.Mounts {
		if filepath.Clean(m.Destination) == "/etc/localtime" {
			return invalid("a time zone and a mount at /etc/localtime both set the time zone: choose one")
		}
	}
	spec.Mounts = append(spec.Mounts, runtime.Mount{Type: "bind", Source: zone, Destination: "/etc/localtime", ReadOnly: true})
	// The zone's name in TZ only helps where the image has zoneinfo; where
	// it has not (busybox, distroless) libc would fall back to UTC. TZ
	// pointing at the file works with glibc and musl alike.
	spec.Env, err = runtime.MergeEnv(spec.Env, []string{"TZ=:/etc/localtime"})
	return err
}

// timezoneFile is the host's file for a zone name, or the host's own
// /etc/localtime for "local".
func timezoneFile(tz string) (string, error) {
	path := filepath.Join(zoneinfoDir, tz)
	if tz == "local" {
		path = "/etc/localtime"
	} else if filepath.IsAbs(tz) || strings.Contains(tz, "..") {
		return "", invalid("invalid time zone %q: use a zone such as Europe/Paris, or local", tz)
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
			return "", invalid("time zone local: the host's /etc/localtime is unusable (%v): name a zone such as Europe/Paris", err)
		}
		return "", invalid("unknown time zone %q: use a name under %s such as Europe/Paris, or local", tz, zoneinfoDir)
	}
	if _, err := time.LoadLocation(strings.TrimPrefix(real, zoneinfoDir+"/")); err != nil && tz != "local" {
		return "", invalid("unknown time zone %q: %v", tz, err)
	}
	return real, nil
}

// replaceContainer is Replace: the container that has the new one's name
// is stopped (its stop signal and timeout) and removed first. One that
// cannot be stopped is left as it is, and the create fails.
func (e *Engine) replaceContainer(ctx context.Context, o ContainerCreateOptions) error {
	if !o.Replace || o.Name == "" {
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
		return fmt.Errorf("cannot replace container %s: stopping it failed: %w", o.Name, err)
	}
	if _, err := e.ContainerRemove(ctx, old.ID, ContainerRemoveOptions{Force: true}); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("cannot replace container %s: removing it failed: %w", o.Name, err)
	}
	return nil
}

// removeImageAfter is RemoveImage, once the --rm container is gone: the image
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
