//go:build skiff_local

package main

import (
	"time"

	"github.com/urfave/cli/v2"
)

// serveAPI: the API server is skiff-full's (handoff.go).
func serveAPI(*cli.Context, time.Duration) error { return handOff() }
