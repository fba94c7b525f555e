package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

func saveCommand() *cli.Command {
	return &cli.Command{
		Name:      "save",
		Usage:     "save images to a tar archive (stdout by default)",
		ArgsUsage: "IMAGE [IMAGE...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to a file instead of stdout"},
			&cli.StringFlag{Name: "format", Value: "docker-archive", Usage: "docker-archive or oci-archive"},
			// podman's; skiff's archives always hold every image named.
			&cli.BoolFlag{Name: "multi-image-archive", Aliases: []string{"m"}, Usage: "accepted: every image named goes into the one archive anyway (podman)"},
		},
		Action: transfers(func(c *cli.Context) error {
			if err := requireArgs(c, 1, -1); err != nil {
				return err
			}
			o := engine.ImageSaveOptions{Images: c.Args().Slice(), Format: c.String("format"), Path: c.String("output")}
			if o.Path == "" {
				if isTerminal(os.Stdout) {
					return fmt.Errorf("cowardly refusing to save to a terminal: use the -o flag or redirect")
				}
				o.Output = os.Stdout
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				_, err := e.ImageSave(ctx, o)
				return err
			})
		}),
	}
}

func loadCommand() *cli.Command {
	return &cli.Command{
		Name:  "load",
		Usage: "load images from a docker-archive or oci-archive (stdin by default)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "input", Aliases: []string{"i"}, Usage: "read from a file instead of stdin"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print less"},
		},
		Action: transfers(func(c *cli.Context) error {
			if err := requireArgs(c, 0, 0); err != nil {
				return err
			}
			in, err := inputFile(c.String("input"), "load")
			if err != nil {
				return err
			}
			defer in.Close()
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				res, err := e.ImageLoad(ctx, engine.ImageLoadOptions{Input: in})
				for _, n := range res.Names {
					fmt.Printf("Loaded image: %s\n", n)
				}
				for _, id := range res.IDs {
					fmt.Printf("Loaded image ID: sha256:%s\n", id)
				}
				return err
			})
		}),
	}
}

// inputFile opens path, or stdin for "" or "-"; a terminal on stdin is refused.
func inputFile(path, verb string) (io.ReadCloser, error) {
	if path == "" || path == "-" {
		if isTerminal(os.Stdin) {
			return nil, fmt.Errorf("requested %s from stdin, but stdin is a terminal: use -i FILE or redirect", verb)
		}
		return io.NopCloser(os.Stdin), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot open %s: %v", verb, path, err)
	}
	return f, nil
}

func importCommand() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "create an image from a root filesystem tarball",
		ArgsUsage: "FILE|- [REPOSITORY[:TAG]]",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "change", Aliases: []string{"c"}, Usage: "Dockerfile instruction: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, VOLUME, STOPSIGNAL"},
			&cli.StringFlag{Name: "message", Aliases: []string{"m"}, Usage: "history comment"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print less"},
		},
		Action: transfers(func(c *cli.Context) error {
			if err := requireArgs(c, 1, 2); err != nil {
				return err
			}
			in, err := inputFile(c.Args().First(), "import")
			if err != nil {
				return err
			}
			defer in.Close()
			o := engine.ImageImportOptions{Input: in, Reference: c.Args().Get(1), Changes: c.StringSlice("change"), Message: c.String("message")}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				res, err := e.ImageImport(ctx, o)
				if err != nil {
					return err
				}
				fmt.Printf("sha256:%s\n", res.Image.ID)
				return nil
			})
		}),
	}
}
