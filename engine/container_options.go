package engine

import (
	"fmt"
	"os"
	"slices"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/runtime"
)

// specOptions copies the typed options into the runtime's SpecOptions and
// finds the init binary; runtime.CheckOptions validates the result.
func (e *Engine) specOptions(o ContainerCreateOptions) (runtime.SpecOptions, error) {
	spec := runtime.SpecOptions{
		Hostname: o.Hostname, Terminal: o.Tty, GroupAdd: o.GroupAdd,
		Mounts: slices.Clone(o.Mounts), ReadOnly: o.ReadonlyRootfs,
		Privileged: o.Privileged, CapAdd: o.CapAdd, CapDrop: o.CapDrop,
		SecurityOptions: o.Security, Resources: o.Resources, Kernel: o.Kernel,
		Rootless: e.paths.Rootless,
	}
	var err error
	if o.Init {
		if spec.InitPath, err = initBinary(); err != nil {
			return spec, err
		}
	}
	return spec, nil
}

// initBinary finds a static init (Init): it must run in any image, so it
// cannot depend on the image's libc.
func initBinary() (string, error) {
	for _, p := range []string{"/usr/libexec/skiff/skiff-init", "/usr/bin/tini-static", "/usr/local/bin/tini-static"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("an init in the container needs a static init binary: install Debian's tini package (tini-static): %w", errdefs.ErrFailedPrecondition)
}
