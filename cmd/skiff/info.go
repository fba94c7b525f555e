package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/template"

	"github.com/containerd/errdefs"
	units "github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

// `skiff info` and `skiff version`: Docker's layouts, or --format with
// Docker's JSON field names (engine.SystemInfo, engine.SystemVersion).
func infoCommand() *cli.Command {
	return &cli.Command{
		Name:  "info",
		Usage: "show the host, the store and the containers",
		Flags: []cli.Flag{&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "Go template, or json"}},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, 0); err != nil {
				return err
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				info, err := e.SystemInfo(ctx, engine.SystemInfoOptions{Version: version})
				if err != nil {
					return err
				}
				if f := c.String("format"); f != "" {
					return formatValue(os.Stdout, f, info)
				}
				printInfo(os.Stdout, info)
				return nil
			})
		},
	}
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "show the skiff version",
		Flags: []cli.Flag{&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "Go template, or json"}},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, 0); err != nil {
				return err
			}
			v := engine.Version(version)
			if f := c.String("format"); f != "" {
				return formatValue(os.Stdout, f, v)
			}
			w := bufio.NewWriter(os.Stdout)
			defer w.Flush()
			for _, side := range []struct {
				name string
				v    engine.VersionInfo
			}{{"Client", v.Client}, {"Server", v.Server}} {
				fmt.Fprintf(w, "%s: skiff\n Version:           %s\n API version:       %s", side.name, side.v.Version, side.v.APIVersion)
				if side.v.MinAPIVersion != "" {
					fmt.Fprintf(w, " (minimum version %s)", side.v.MinAPIVersion)
				}
				fmt.Fprintf(w, "\n Go version:        %s\n Git commit:        %s\n Built:             %s\n OS/Arch:           %s/%s\n",
					side.v.GoVersion, side.v.GitCommit, side.v.BuildTime, side.v.Os, side.v.Arch)
				if side.name == "Client" {
					fmt.Fprintln(w)
				}
			}
			return nil
		},
	}
}

// formatValue prints v by a Go template, or as JSON with "json".
func formatValue(w io.Writer, format string, v any) error {
	if format == "json" {
		return printJSON(w, v)
	}
	t, err := template.New("format").Funcs(templateFuncs).Parse(format + "\n")
	if err != nil {
		return fmt.Errorf("invalid --format template: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	if err := t.Execute(w, v); err != nil {
		return fmt.Errorf("invalid --format template: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	return nil
}

// printInfo is Docker's `info` layout.
func printInfo(out io.Writer, i engine.SystemInfo) {
	w := bufio.NewWriter(out)
	defer w.Flush()
	p := func(indent int, format string, args ...any) {
		fmt.Fprintf(w, strings.Repeat(" ", indent)+format+"\n", args...)
	}
	p(0, "Server:")
	p(1, "Containers: %d", i.Containers)
	p(2, "Running: %d", i.ContainersRunning)
	p(2, "Paused: %d", i.ContainersPaused)
	p(2, "Stopped: %d", i.ContainersStopped)
	p(1, "Images: %d", i.Images)
	p(1, "Server Version: %s", i.ServerVersion)
	p(1, "Storage Driver: %s", i.Driver)
	for _, kv := range i.DriverStatus {
		p(2, "%s: %s", kv[0], kv[1])
	}
	p(1, "Logging Driver: %s", i.LoggingDriver)
	p(1, "Cgroup Driver: %s", i.CgroupDriver)
	p(1, "Cgroup Version: %s", i.CgroupVersion)
	p(1, "Plugins:")
	p(2, "Volume: %s", strings.Join(i.Plugins.Volume, " "))
	p(2, "Network: %s", strings.Join(i.Plugins.Network, " "))
	p(2, "Log: %s", strings.Join(i.Plugins.Log, " "))
	p(1, "Swarm: %s", i.Swarm.LocalNodeState)
	p(1, "Runtimes: runc (%s, runc %s)", i.Skiff.Runtime, i.Skiff.RuncVersion)
	p(1, "Default Runtime: %s", i.DefaultRuntime)
	p(1, "Security Options:")
	for _, o := range i.SecurityOptions {
		p(2, "%s", strings.TrimPrefix(strings.ReplaceAll(o, ",", " "), "name="))
	}
	p(1, "Kernel Version: %s", i.KernelVersion)
	p(1, "Operating System: %s", i.OperatingSystem)
	p(1, "OSType: %s", i.OSType)
	p(1, "Architecture: %s", i.Architecture)
	p(1, "CPUs: %d", i.NCPU)
	p(1, "Total Memory: %s", units.BytesSize(float64(i.MemTotal)))
	p(1, "Name: %s", i.Name)
	p(1, "Docker Root Dir: %s", i.DockerRootDir)
	p(1, "Skiff:")
	p(2, "Rootless: %t", i.Skiff.Rootless)
	p(2, "Graph Root: %s", i.Skiff.GraphRoot)
	p(2, "Run Root: %s", i.Skiff.RunRoot)
	p(2, "Network Backend: %s", i.Skiff.NetworkBackend)
	p(2, "Events Kept: %d", i.Skiff.EventsMax)
	p(1, "Live Restore Enabled: false")
	for _, warn := range i.Warnings {
		p(0, "%s", warn)
	}
}
