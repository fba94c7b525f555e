package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

// Security flags: --security-opt strings become engine.SecurityOptions; a
// seccomp profile's file is read here, the runtime gets its bytes.
// Capability names and the profile's content are runtime.CheckOptions's.

func securityFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "privileged", Usage: "give extended privileges to this container"},
		&cli.StringSliceFlag{Name: "cap-add", Usage: "add Linux capabilities"},
		&cli.StringSliceFlag{Name: "cap-drop", Usage: "drop Linux capabilities"},
		&cli.StringSliceFlag{Name: "security-opt", Usage: "security options (no-new-privileges, seccomp=unconfined|profile.json, unmask=ALL|PATH:PATH, label=..., apparmor=...)"},
	}
}

func parseSecurityFlags(c *cli.Context, o *engine.ContainerCreateOptions) error {
	o.Privileged = c.Bool("privileged")
	o.CapAdd = c.StringSlice("cap-add")
	o.CapDrop = c.StringSlice("cap-drop")
	var err error
	o.Security, err = parseSecurityOpts(c.StringSlice("security-opt"))
	return err
}

func parseSecurityOpts(opts []string) (engine.SecurityOptions, error) {
	var s engine.SecurityOptions
	for _, opt := range opts {
		k, v, hasValue := strings.Cut(opt, "=")
		if !hasValue {
			k, v, hasValue = strings.Cut(opt, ":") // docker's older seccomp:unconfined
		}
		switch k {
		case "no-new-privileges":
			switch v {
			case "", "true":
				s.NoNewPrivileges = true
			case "false":
				s.NoNewPrivileges = false
			default:
				return s, fmt.Errorf("invalid --security-opt %q: no-new-privileges takes true or false", opt)
			}
			continue
		}
		if v == "" {
			return s, fmt.Errorf("invalid --security-opt %q: give %s a value", opt, k)
		}
		switch k {
		case "seccomp":
			if v == "unconfined" {
				s.Seccomp, s.SeccompProfile = v, nil
				continue
			}
			b, err := os.ReadFile(v)
			if err != nil {
				if pe := (*os.PathError)(nil); errors.As(err, &pe) {
					err = pe.Err
				}
				return s, fmt.Errorf("--security-opt seccomp=%s: %v", v, err)
			}
			s.Seccomp, s.SeccompProfile = "", b
		case "unmask":
			s.Unmask = append(s.Unmask, strings.Split(v, ":")...)
		case "label":
			s.Label = append(s.Label, v)
		case "apparmor":
			s.AppArmor = v
		default:
			return s, fmt.Errorf("unknown --security-opt %q: use no-new-privileges, seccomp=..., unmask=..., label=... or apparmor=...", opt)
		}
	}
	return s, nil
}
