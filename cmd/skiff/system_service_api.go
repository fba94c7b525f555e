//go:build !skiff_local

package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/skiff-engine/skiff/engine"
	"github.com/skiff-engine/skiff/engine/api"
)

// serveAPI serves Docker's Engine API on the activation socket or the
// address given, until idle that long (0: never) or a signal.
func serveAPI(c *cli.Context, idle time.Duration) error {
	ln, activated, err := api.ActivationListener()
	if err != nil {
		return err
	}
	var addr api.Addr
	if ln == nil {
		if addr, err = api.ParseAddr(c.Args().First()); err != nil {
			return err
		}
	}
	return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
		if ln == nil {
			if ln, err = api.Listen(e, addr); err != nil {
				return err
			}
		}
		defer ln.Close()
		if !activated && addr.Network == "tcp" {
			fmt.Fprintf(os.Stderr, "WARNING: serving the API on %s without TLS or authentication: anyone who can reach it controls this user's containers\n", addr.Path)
		}
		ctx, stop := signal.NotifyContext(ctx, unix.SIGINT, unix.SIGTERM)
		defer stop()
		s := api.New(e, api.Options{Version: version, Idle: idle})
		return s.Serve(ctx, ln)
	})
}
