package imagestore

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
	imgspecv1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// ApplyChanges applies Dockerfile instructions (import --change, commit
// --change) to an image config: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER,
// WORKDIR, VOLUME, STOPSIGNAL.
func ApplyChanges(c *imgspecv1.ImageConfig, changes []string) error {
	for _, change := range changes {
		instr, arg, _ := strings.Cut(strings.TrimSpace(change), " ")
		if strings.Contains(instr, "=") && arg == "" {
			instr, arg, _ = strings.Cut(change, "=")
		}
		arg = strings.TrimSpace(arg)
		if err := applyChange(c, strings.ToUpper(instr), arg); err != nil {
			return fmt.Errorf("invalid change %q: %v: %w", change, err, errdefs.ErrInvalidArgument)
		}
	}
	return nil
}

func applyChange(c *imgspecv1.ImageConfig, instr, arg string) error {
	switch instr {
	case "CMD":
		c.Cmd = commandForm(arg)
	case "ENTRYPOINT":
		c.Entrypoint = commandForm(arg)
	case "ENV":
		for _, kv := range keyValues(arg) {
			c.Env = setEnv(c.Env, kv)
		}
	case "LABEL":
		if c.Labels == nil {
			c.Labels = map[string]string{}
		}
		for _, kv := range keyValues(arg) {
			k, v, _ := strings.Cut(kv, "=")
			c.Labels[k] = v
		}
	case "EXPOSE":
		if c.ExposedPorts == nil {
			c.ExposedPorts = map[string]struct{}{}
		}
		for _, p := range strings.Fields(arg) {
			if !strings.Contains(p, "/") {
				p += "/tcp"
			}
			c.ExposedPorts[p] = struct{}{}
		}
	case "VOLUME":
		if c.Volumes == nil {
			c.Volumes = map[string]struct{}{}
		}
		for _, v := range listForm(arg) {
			c.Volumes[v] = struct{}{}
		}
	case "USER":
		c.User = arg
	case "WORKDIR":
		c.WorkingDir = arg
	case "STOPSIGNAL":
		c.StopSignal = arg
	default:
		return fmt.Errorf("unsupported instruction %q (use CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, VOLUME or STOPSIGNAL)", instr)
	}
	if arg == "" {
		return fmt.Errorf("%s needs an argument", instr)
	}
	return nil
}

// commandForm is the JSON (exec) form, or the shell form run by /bin/sh -c.
func commandForm(arg string) []string {
	var list []string
	if json.Unmarshal([]byte(arg), &list) == nil {
		return list
	}
	return []string{"/bin/sh", "-c", arg}
}

func listForm(arg string) []string {
	var list []string
	if json.Unmarshal([]byte(arg), &list) == nil {
		return list
	}
	return strings.Fields(arg)
}

// keyValues splits `k=v k2="v 2"` or the legacy `k v` form.
func keyValues(arg string) []string {
	if !strings.Contains(arg, "=") {
		k, v, _ := strings.Cut(arg, " ")
		return []string{k + "=" + strings.TrimSpace(v)}
	}
	var out []string
	var cur strings.Builder
	quote := rune(0)
	for _, r := range arg {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote == 0 && (r == '"' || r == '\''):
			quote = r
		case quote == 0 && r == ' ':
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

func setEnv(env []string, kv string) []string {
	k, _, _ := strings.Cut(kv, "=")
	for i, e := range env {
		if strings.HasPrefix(e, k+"=") {
			env[i] = kv
			return env
		}
	}
	return append(env, kv)
}
