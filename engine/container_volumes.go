package engine

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/skiff-engine/skiff/runtime"
)

// resolveMounts decides a new container's volumes, writing nothing: each
// volume mount gets its volume's name (a new 64-hex one when anonymous) and
// data directory as Source; --volumes-from adds the binds and volumes of
// other containers; the image's VOLUMEs not covered by a mount become
// anonymous volumes. It returns the anonymous volumes' names, which
// createVolumes makes with the container.
func (e *Engine) resolveMounts(ctx context.Context, spec *runtime.SpecOptions, volumesFrom []string, imageVolumes map[string]struct{}) ([]string, error) {
	var anonymous []string
	for i := range spec.Mounts {
		m := &spec.Mounts[i]
		if filepath.IsAbs(m.Destination) {
			m.Destination = filepath.Clean(m.Destination) // what cp and inspect read
		}
		if m.Type == "bind" && filepath.IsAbs(m.Source) {
			m.Source = filepath.Clean(m.Source)
		}
		if m.Type != "volume" {
			continue
		}
		name := firstNonEmpty(m.Name, m.Source)
		if name == "" {
			name = newVolumeName()
			anonymous = append(anonymous, name)
		} else if err := checkVolumeName(name); err != nil {
			return nil, err
		}
		if err := e.checkVolumeOptions(m.VolumeOptions); err != nil {
			return nil, fmt.Errorf("volume %s: %w", name, err)
		}
		m.Name, m.Source = name, e.volumeData(name)
	}
	from, err := e.volumesFrom(volumesFrom, spec.Mounts)
	if err != nil {
		return nil, err
	}
	spec.Mounts = append(spec.Mounts, from...)
	for _, dst := range slices.Sorted(maps.Keys(imageVolumes)) {
		if !filepath.IsAbs(dst) || mountedAt(spec.Mounts, dst) {
			continue
		}
		name := newVolumeName()
		anonymous = append(anonymous, name)
		spec.Mounts = append(spec.Mounts, runtime.Mount{Type: "volume", Name: name, Source: e.volumeData(name), Destination: filepath.Clean(dst)})
	}
	return anonymous, nil
}

func mountedAt(ms []runtime.Mount, dst string) bool {
	return slices.ContainsFunc(ms, func(m runtime.Mount) bool { return filepath.Clean(m.Destination) == filepath.Clean(dst) })
}

// volumesFrom are the bind and volume mounts of the containers refs name
// (Docker's --volumes-from CONTAINER[:ro|rw]: the mode replaces theirs),
// except where the container's own mounts are.
func (e *Engine) volumesFrom(refs []string, own []runtime.Mount) ([]runtime.Mount, error) {
	var out []runtime.Mount
	for _, ref := range refs {
		name, mode, _ := strings.Cut(ref, ":")
		if mode != "" && mode != "ro" && mode != "rw" {
			return nil, invalid("invalid --volumes-from %q: use CONTAINER[:ro|rw]", ref)
		}
		c, err := e.lookupContainer(name)
		if err != nil {
			return nil, err
		}
		for _, m := range c.Config.Spec.Mounts {
			if (m.Type != "volume" && m.Type != "bind") || mountedAt(own, m.Destination) || mountedAt(out, m.Destination) {
				continue
			}
			if mode != "" {
				m.ReadOnly = mode == "ro"
				m.Options = slices.DeleteFunc(slices.Clone(m.Options), func(o string) bool { return o == "ro" || o == "rw" })
			}
			m.Chown, m.VolumeOptions = false, nil
			out = append(out, m)
		}
	}
	return out, nil
}

// createVolumes makes the volumes of c's mounts that do not exist yet (a
// named one on first use, with the mount's driver options; the anonymous
// ones, marked so) and returns the names it made, for a failed create to
// remove.
func (e *Engine) createVolumes(ctx context.Context, cfg *ContainerConfig) ([]string, error) {
	var made []string
	for _, m := range cfg.Spec.Mounts {
		if m.Type != "volume" {
			continue
		}
		vc := VolumeConfig{Options: m.VolumeOptions, Anonymous: slices.Contains(cfg.AnonymousVolumes, m.Name)}
		_, created, err := e.ensureVolume(ctx, m.Name, vc)
		if err != nil {
			e.dropVolumes(made)
			return nil, err
		}
		if created {
			made = append(made, m.Name)
		}
	}
	return made, nil
}

// dropVolumes removes volumes a failed create made.
func (e *Engine) dropVolumes(names []string) {
	for _, n := range names {
		if v, err := e.lookupVolume(context.Background(), n); err == nil {
			e.removeVolume(context.Background(), v)
		}
	}
}
