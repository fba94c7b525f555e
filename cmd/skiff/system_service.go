package main

import (
	"bytes"
	"fmt"
	"os"
	"sync"
	"text/template"
	"time"

	"github.com/containerd/errdefs"
	"github.com/urfave/cli/v2"
)

// `skiff system service [--time N] [URI]`: Docker's Engine API on a unix
// socket until N seconds pass with nothing busy (engine/api).
func systemServiceCommand() *cli.Command {
	return &cli.Command{
		Name:      "service",
		Usage:     "serve Docker's Engine API on a socket, exiting when idle",
		ArgsUsage: "[unix://PATH | tcp://HOST:PORT]",
		Flags: []cli.Flag{
			&cli.Int64Flag{Name: "time", Aliases: []string{"t"}, Value: 5, Usage: "seconds idle before exiting (0: never)"},
			&cli.BoolFlag{Name: "print-units", Usage: "print the systemd socket and service units (system and user) and exit"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, 1); err != nil {
				return err
			}
			if c.Bool("print-units") {
				self, err := os.Executable()
				if err != nil {
					return err
				}
				_, err = os.Stdout.Write(serviceUnits(self))
				return err
			}
			secs := c.Int64("time")
			if secs < 0 {
				return fmt.Errorf("invalid --time %d: must be 0 (never exit) or more: %w", secs, errdefs.ErrInvalidArgument)
			}
			return serveAPI(c, time.Duration(secs)*time.Second)
		},
	}
}

// serviceUnitsText holds the units for socket activation: skiff.socket and
// skiff.service, the system's (Skiff: the binary) and the user's.
const serviceUnitsText = `{{define "socket"}}# skiff.socket{{if .User}} (a user unit: ~/.config/systemd/user/skiff.socket){{end}}: Docker's Engine API for
# {{if .User}}this user's{{else}}the system's{{end}} skiff, started on demand: {{if .User}}systemctl --user{{else}}systemctl{{end}} enable --now skiff.socket
[Unit]
Description=skiff API socket
Documentation=https://github.com/skiff-engine/skiff/blob/main/docs/skiff-system-service.md

[Socket]
ListenStream=%t/skiff/skiff.sock
SocketMode=0600
DirectoryMode=0700

[Install]
WantedBy=sockets.target
{{end}}{{define "service"}}# skiff.service{{if .User}} (a user unit: ~/.config/systemd/user/skiff.service){{end}}: serves skiff.socket and
# exits after 5 s idle; the containers it starts keep running (KillMode=process).
[Unit]
Description=skiff API service
Documentation=https://github.com/skiff-engine/skiff/blob/main/docs/skiff-system-service.md
Requires=skiff.socket
After=skiff.socket
StartLimitIntervalSec=0

[Service]
Type=exec
ExecStart={{.Skiff}} system service --time 5
KillMode=process
{{end}}`

var serviceUnitsTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("units").Parse(serviceUnitsText))
})

// serviceUnit is one unit: kind "socket" or "service".
func serviceUnit(kind, skiff string, user bool) []byte {
	var b bytes.Buffer
	if err := serviceUnitsTemplate().ExecuteTemplate(&b, kind, struct {
		Skiff string
		User  bool
	}{skiff, user}); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// serviceUnits is the four units, each after a line naming its file.
func serviceUnits(skiff string) []byte {
	var b bytes.Buffer
	for _, u := range []struct {
		file, kind string
		user       bool
	}{
		{"/etc/systemd/system/skiff.socket", "socket", false},
		{"/etc/systemd/system/skiff.service", "service", false},
		{"~/.config/systemd/user/skiff.socket", "socket", true},
		{"~/.config/systemd/user/skiff.service", "service", true},
	} {
		fmt.Fprintf(&b, "### %s\n", u.file)
		b.Write(serviceUnit(u.kind, skiff, u.user))
		b.WriteString("\n")
	}
	return b.Bytes()
}
