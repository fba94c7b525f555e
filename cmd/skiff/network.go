package main

import (
	"context"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

// network: Docker's network commands (bridge networks, rootful).

func networkGroup() *cli.Command {
	return &cli.Command{
		Name:  "network",
		Usage: "manage networks",
		Subcommands: []*cli.Command{
			networkCreateCommand(), networkLsCommand(), networkInspectCommand(), networkRmCommand(),
			networkPruneCommand(), networkExistsCommand(), networkConnectCommand(), networkDisconnectCommand(),
		},
	}
}

func networkCreateCommand() *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "create a network",
		ArgsUsage: "NAME",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "driver", Aliases: []string{"d"}, Value: "bridge", Usage: "driver to manage the network (bridge)"},
			&cli.StringFlag{Name: "subnet", Usage: "subnet in CIDR format (default: a free 10.89.N.0/24)"},
			&cli.StringFlag{Name: "gateway", Usage: "gateway of the subnet (default: its first address)"},
			&cli.StringFlag{Name: "ip-range", Usage: "allocate container addresses from this sub-range (CIDR)"},
			&cli.BoolFlag{Name: "internal", Usage: "restrict external access to the network"},
			&cli.StringSliceFlag{Name: "label", Usage: "set metadata on the network (key=value)"},
			&cli.StringSliceFlag{Name: "opt", Aliases: []string{"o"}, Usage: "driver options (mtu=N, com.docker.network.bridge.name=NAME)"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, 1); err != nil {
				return err
			}
			labels, opts, err := labelsAndOpts(c)
			if err != nil {
				return err
			}
			o := engine.NetworkCreateOptions{Name: c.Args().First(), Driver: c.String("driver"), Subnet: c.String("subnet"),
				Gateway: c.String("gateway"), IPRange: c.String("ip-range"), Internal: c.Bool("internal"), Labels: labels, Options: opts}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				res, err := e.NetworkCreate(ctx, o)
				if err != nil {
					return err
				}
				fmt.Println(res.ID)
				return nil
			})
		},
	}
}

type networkRow struct {
	ID, Name, Driver, Scope, Created, Internal, Labels, IPv6 string
}

var networkTable = table{
	format:  "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}",
	headers: map[string]string{"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE", "Created": "CREATED", "Internal": "INTERNAL", "Labels": "LABELS", "IPv6": "IPV6"},
}

func networkLsCommand() *cli.Command {
	return &cli.Command{
		Name:    "ls",
		Aliases: []string{"list"},
		Usage:   "list networks",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "filter output by key=value (name, id, label, driver, type, dangling)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only display network IDs"},
			&cli.StringFlag{Name: "format", Usage: "Go template, or json"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "do not truncate the output"},
			&cli.BoolFlag{Name: "noheading", Usage: "do not print the header row (podman)"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, 0); err != nil {
				return err
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				res, err := e.NetworkList(ctx, engine.NetworkListOptions{Filters: c.StringSlice("filter")})
				if err != nil {
					return err
				}
				var rows []any
				for _, n := range res.Networks {
					id := n.ID
					if !c.Bool("no-trunc") {
						id = id[:12]
					}
					if c.Bool("quiet") {
						fmt.Println(id)
						continue
					}
					rows = append(rows, networkRow{ID: id, Name: n.Name, Driver: n.Config.Driver, Scope: "local",
						Created: n.Created.Format("2006-01-02 15:04:05 -0700 MST"), Internal: fmt.Sprint(n.Config.Internal),
						Labels: joinLabels(n.Config.Labels), IPv6: "false"})
				}
				if c.Bool("quiet") {
					return nil
				}
				t := networkTable
				t.noHeading = c.Bool("noheading")
				return render(os.Stdout, c.String("format"), t, rows)
			})
		},
	}
}

func networkInspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "display detailed information on one or more networks",
		ArgsUsage: "NETWORK [NETWORK...]",
		Flags:     []cli.Flag{&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "Go template"}},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, -1); err != nil {
				return err
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				var docs []any
				var failed error
				for _, ref := range c.Args().Slice() {
					d, err := e.NetworkInspect(ctx, ref)
					if err != nil {
						fmt.Fprintf(os.Stderr, "Error: %s\n", oneLine(err))
						failed = &silentError{code: exitCode(err)}
						continue
					}
					docs = append(docs, d)
				}
				if err := printInspect(c.String("format"), docs); err != nil {
					return err
				}
				return failed
			})
		},
	}
}

func networkRmCommand() *cli.Command {
	return &cli.Command{
		Name:      "rm",
		Aliases:   []string{"remove"},
		Usage:     "remove one or more networks",
		ArgsUsage: "NETWORK [NETWORK...]",
		Flags:     []cli.Flag{&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not error if the network does not exist"}},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, -1); err != nil {
				return err
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				return removeEach(c, func(ref string) error {
					return e.NetworkRemove(ctx, ref, engine.NetworkRemoveOptions{Force: c.Bool("force")})
				})
			})
		},
	}
}

func networkPruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "remove all unused networks",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not prompt for confirmation"},
			&cli.StringSliceFlag{Name: "filter", Usage: "provide filter values (label, until)"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, 0); err != nil {
				return err
			}
			if !c.Bool("force") && !confirm("WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] ") {
				return nil
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				res, err := e.NetworkPrune(ctx, c.StringSlice("filter"))
				if len(res.Removed) > 0 {
					fmt.Println("Deleted Networks:")
					for _, n := range res.Removed {
						fmt.Println(n)
					}
				}
				return err
			})
		},
	}
}

func networkExistsCommand() *cli.Command {
	return &cli.Command{
		Name:      "exists",
		Usage:     "exit 0 if the network exists, 1 if not (podman)",
		ArgsUsage: "NETWORK",
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, 1); err != nil {
				return err
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				ok, err := e.NetworkExists(ctx, c.Args().First())
				if err != nil {
					return err
				}
				if !ok {
					return &silentError{code: 1}
				}
				return nil
			})
		},
	}
}

func networkConnectCommand() *cli.Command {
	return &cli.Command{
		Name:      "connect",
		Usage:     "connect a container to a network",
		ArgsUsage: "NETWORK CONTAINER",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "alias", Usage: "add a network-scoped alias for the container"},
			&cli.StringFlag{Name: "ip", Usage: "IPv4 address (e.g., 172.30.100.104)"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 2, 2); err != nil {
				return err
			}
			o := engine.NetworkConnectOptions{Aliases: c.StringSlice("alias"), IPAddress: c.String("ip")}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				return e.NetworkConnect(ctx, c.Args().Get(0), c.Args().Get(1), o)
			})
		},
	}
}

func networkDisconnectCommand() *cli.Command {
	return &cli.Command{
		Name:      "disconnect",
		Usage:     "disconnect a container from a network",
		ArgsUsage: "NETWORK CONTAINER",
		Flags:     []cli.Flag{&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "force the container to disconnect from a network"}},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 2, 2); err != nil {
				return err
			}
			o := engine.NetworkDisconnectOptions{Force: c.Bool("force")}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				return e.NetworkDisconnect(ctx, c.Args().Get(0), c.Args().Get(1), o)
			})
		},
	}
}
