package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/skiff-engine/skiff/engine"
)

// imageCommands are the top-level image verbs; imageGroup repeats them under
// `skiff image`, as docker does.
func imageCommands() []*cli.Command {
	return []*cli.Command{
		pullCommand(), pushCommand(), imagesCommand("images"), rmiCommand("rmi"), tagCommand(), untagCommand(),
		historyCommand(), saveCommand(), loadCommand(), importCommand(), inspectCommand(),
	}
}

func imageGroup() *cli.Command {
	return &cli.Command{
		Name:  "image",
		Usage: "manage images",
		Subcommands: []*cli.Command{
			imagesCommand("ls", "list"), rmiCommand("rm"), pullCommand(), pushCommand(), tagCommand(), untagCommand(),
			historyCommand(), saveCommand(), loadCommand(), importCommand(), imageInspectCommand(),
			imagePruneCommand(), imageExistsCommand(),
		},
	}
}

var tlsVerifyFlag = &cli.BoolFlag{Name: "tls-verify", Value: true, Usage: "require HTTPS and verify certificates (registries.conf decides when unset)"}
var authFileFlagDef = &cli.StringFlag{Name: "authfile", Usage: "credentials file (default: $XDG_RUNTIME_DIR/containers/auth.json)", EnvVars: []string{"REGISTRY_AUTH_FILE"}}

func tlsVerify(c *cli.Context) engine.TLSVerify {
	if !c.IsSet("tls-verify") {
		return engine.TLSDefault
	}
	if c.Bool("tls-verify") {
		return engine.TLSVerifyOn
	}
	return engine.TLSVerifyOff
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

func pullCommand() *cli.Command {
	return &cli.Command{
		Name:      "pull",
		Usage:     "pull an image from a registry",
		ArgsUsage: "NAME[:TAG|@DIGEST]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the image name"},
			&cli.StringFlag{Name: "platform", Usage: "os/arch[/variant] to pull from a multi-platform image"},
			tlsVerifyFlag, authFileFlagDef,
		},
		Action: transfers(func(c *cli.Context) error {
			if err := requireArgs(c, 1, 1); err != nil {
				return err
			}
			o := engine.ImagePullOptions{TLSVerify: tlsVerify(c), Platform: c.String("platform")}
			if !c.Bool("quiet") {
				o.Progress, o.Terminal = os.Stdout, isTerminal(os.Stdout)
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				res, err := e.ImagePull(ctx, c.Args().First(), o)
				if err != nil {
					return err
				}
				fmt.Println(res.Name)
				return nil
			})
		}),
	}
}

func pushCommand() *cli.Command {
	return &cli.Command{
		Name:      "push",
		Usage:     "push an image to a registry",
		ArgsUsage: "IMAGE [DESTINATION]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress output"},
			tlsVerifyFlag, authFileFlagDef,
		},
		Action: transfers(func(c *cli.Context) error {
			if err := requireArgs(c, 1, 2); err != nil {
				return err
			}
			o := engine.ImagePushOptions{Dest: c.Args().Get(1), TLSVerify: tlsVerify(c)}
			if !c.Bool("quiet") {
				o.Progress, o.Terminal = os.Stdout, isTerminal(os.Stdout)
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				_, err := e.ImagePush(ctx, c.Args().Get(0), o)
				return err
			})
		}),
	}
}

// imageRow is one line of `images`, with Docker's template field names.
type imageRow struct {
	Repository   string
	Tag          string
	Digest       string
	ID           string
	CreatedSince string
	CreatedAt    string
	Size         string
	VirtualSize  string
	Containers   string

	created time.Time
	bytes   int64
}

var imagesTable = table{
	format:  "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}",
	headers: map[string]string{"ID": "IMAGE ID", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Repository": "REPOSITORY", "Tag": "TAG", "Digest": "DIGEST", "Size": "SIZE", "Containers": "CONTAINERS"},
}

func imagesCommand(name string, aliases ...string) *cli.Command {
	return &cli.Command{
		Name:      name,
		Aliases:   aliases,
		Usage:     "list images",
		ArgsUsage: "[REPOSITORY[:TAG]]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "show all images (default hides intermediate images)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only show image IDs"},
			&cli.BoolFlag{Name: "digests", Usage: "show digests"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "don't truncate output"},
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "filter output by key=value (reference, dangling, label, before, since, until); one key twice: either, different keys: all"},
			&cli.StringFlag{Name: "format", Usage: "Go template, or json"},
			&cli.StringFlag{Name: "sort", Value: "created", Usage: "sort by created, id, repository, size or tag (podman)"},
			&cli.BoolFlag{Name: "noheading", Aliases: []string{"n"}, Usage: "do not print the header row (podman)"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, 1); err != nil {
				return err
			}
			if _, ok := imageSorts[c.String("sort")]; !ok {
				return fmt.Errorf("invalid --sort %q: use created, id, repository, size or tag", c.String("sort"))
			}
			filters := c.StringSlice("filter")
			if c.NArg() == 1 {
				filters = append(filters, "reference="+c.Args().First())
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				res, err := e.ImageList(ctx, engine.ImageListOptions{All: c.Bool("all"), Filters: filters})
				if err != nil {
					return err
				}
				return printImages(c, res.Images)
			})
		},
	}
}

func printImages(c *cli.Context, imgs []engine.Image) error {
	noTrunc := c.Bool("no-trunc")
	id := func(img engine.Image) string {
		if noTrunc {
			return "sha256:" + img.ID
		}
		return shortID(img.ID)
	}
	var rows []imageRow
	for _, img := range imgs {
		names := img.Names
		if len(names) == 0 {
			names = []string{""}
		}
		for _, n := range names {
			r := imageRow{Repository: "<none>", Tag: "<none>", Digest: "<none>", ID: id(img),
				CreatedSince: ago(img.Created), CreatedAt: img.Created.Format("2006-01-02 15:04:05 -0700 MST"),
				Size: humanSize(img.Size), VirtualSize: humanSize(img.Size), Containers: "N/A", created: img.Created, bytes: img.Size}
			if n != "" {
				r.Repository, r.Tag = engine.SplitRepoTag(n)
			}
			if img.Digest != "" {
				r.Digest = img.Digest.String()
			}
			rows = append(rows, r)
		}
	}
	less := imageSorts[c.String("sort")]
	sort.SliceStable(rows, func(i, j int) bool { return less(rows[i], rows[j]) })
	if c.Bool("quiet") {
		seen := map[string]bool{}
		for _, r := range rows {
			if !seen[r.ID] {
				seen[r.ID] = true
				fmt.Println(r.ID)
			}
		}
		return nil
	}
	anys := make([]any, len(rows))
	for i, r := range rows {
		anys[i] = r
	}
	t := imagesTable
	if c.Bool("digests") {
		t.format = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
	}
	t.noHeading = c.Bool("noheading")
	return render(os.Stdout, c.String("format"), t, anys)
}

// imageSorts are podman's images --sort keys; created is newest first.
var imageSorts = map[string]func(a, b imageRow) bool{
	"created":    func(a, b imageRow) bool { return a.created.After(b.created) },
	"id":         func(a, b imageRow) bool { return a.ID < b.ID },
	"repository": func(a, b imageRow) bool { return a.Repository < b.Repository },
	"size":       func(a, b imageRow) bool { return a.bytes < b.bytes },
	"tag":        func(a, b imageRow) bool { return a.Tag < b.Tag },
}

func rmiCommand(name string) *cli.Command {
	return &cli.Command{
		Name:      name,
		Usage:     "remove one or more images",
		ArgsUsage: "IMAGE [IMAGE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "remove an image with several names, by ID"},
			&cli.BoolFlag{Name: "ignore", Aliases: []string{"i"}, Usage: "ignore images that do not exist (podman)"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, -1); err != nil {
				return err
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				var failed error
				for _, n := range c.Args().Slice() {
					res, err := e.ImageRemove(ctx, n, engine.ImageRemoveOptions{Force: c.Bool("force")})
					for _, u := range res.Untagged {
						fmt.Printf("Untagged: %s\n", u)
					}
					for _, d := range res.Deleted {
						fmt.Printf("Deleted: %s\n", d)
					}
					if err != nil && !(c.Bool("ignore") && isNotFound(err)) {
						fmt.Fprintf(os.Stderr, "Error: %s\n", oneLine(err))
						failed = &silentError{code: exitEngine}
					}
				}
				return failed
			})
		},
	}
}

func tagCommand() *cli.Command {
	return &cli.Command{
		Name:      "tag",
		Usage:     "give an image another name",
		ArgsUsage: "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG] [TARGET...]",
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 2, -1); err != nil {
				return err
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				for _, t := range c.Args().Slice()[1:] {
					if _, err := e.ImageTag(ctx, c.Args().First(), engine.ImageTagOptions{Target: t}); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
}

func untagCommand() *cli.Command {
	return &cli.Command{
		Name:      "untag",
		Usage:     "remove names from an image, keeping the image (podman)",
		ArgsUsage: "IMAGE [NAME...]",
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, -1); err != nil {
				return err
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				_, err := e.ImageUntag(ctx, c.Args().First(), engine.ImageUntagOptions{Names: c.Args().Tail()})
				return err
			})
		},
	}
}

func imageExistsCommand() *cli.Command {
	return &cli.Command{
		Name:      "exists",
		Usage:     "exit 0 if the image exists locally, 1 if not (podman)",
		ArgsUsage: "IMAGE",
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, 1); err != nil {
				return err
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				res, err := e.ImageExists(ctx, c.Args().First(), engine.ImageExistsOptions{})
				if err != nil {
					return err
				}
				if !res.Exists {
					return &silentError{code: 1}
				}
				return nil
			})
		},
	}
}

func imagePruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "remove unused images",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove all images no container uses, not just dangling ones"},
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not prompt for confirmation"},
			&cli.StringSliceFlag{Name: "filter", Usage: "filter by key=value: until, label, label!"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, 0); err != nil {
				return err
			}
			if !c.Bool("force") {
				what := "all dangling images"
				if c.Bool("all") {
					what = "all images without at least one container associated to them"
				}
				if !confirm(fmt.Sprintf("WARNING! This will remove %s.\nAre you sure you want to continue? [y/N] ", what)) {
					return nil
				}
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				res, err := e.ImagePrune(ctx, engine.ImagePruneOptions{All: c.Bool("all"), Filters: c.StringSlice("filter")})
				if err != nil && len(res.Deleted) == 0 {
					return err // a bad filter: one line, no summary
				}
				if len(res.Deleted) > 0 {
					fmt.Println("Deleted Images:")
					for _, d := range res.Deleted {
						fmt.Printf("deleted: %s\n", d)
					}
					fmt.Println()
				}
				fmt.Printf("Total reclaimed space: %s\n", humanSize(res.Reclaimed))
				return err
			})
		},
	}
}

// confirm asks on stdout and reads one line from stdin; only y/yes agrees.
func confirm(prompt string) bool {
	fmt.Print(prompt)
	var answer string
	fmt.Scanln(&answer)
	answer = strings.ToLower(strings.TrimSpace(answer))
	return answer == "y" || answer == "yes"
}
