package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync"
	"text/template"

	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
	"github.com/skiff-engine/skiff/userns"
)

// `skiff system boot`: after a reboot, start the containers whose restart
// policy asks for it (engine.SystemBoot); a unit runs it at boot.
func systemBootCommand() *cli.Command {
	return &cli.Command{
		Name:  "boot",
		Usage: "start the containers with restart policy always or unless-stopped (run at boot by skiff-restart.service)",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "print-unit", Usage: "print the systemd unit that runs this at boot (a user unit when rootless) and exit"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, 0); err != nil {
				return err
			}
			if c.Bool("print-unit") {
				self, err := os.Executable()
				if err != nil {
					return err
				}
				_, err = os.Stdout.Write(bootUnit(self, userns.Rootless()))
				return err
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				res, err := e.SystemBoot(ctx, engine.SystemBootOptions{})
				for _, id := range res.Started {
					fmt.Println(id)
				}
				return err
			})
		},
	}
}

// bootUnitText is skiff-restart.service. The unit is a oneshot that stays
// active: the monitors it starts live in its cgroup, so at shutdown systemd
// sends them SIGTERM, which stops each container as `skiff stop` does but
// without counting as the user's stop (unless-stopped containers come back
// at the next boot). It must not run `skiff stop` itself for that reason.
const bootUnitText = `# skiff-restart.service: start skiff's containers whose restart policy is
# always or unless-stopped, at boot{{if .User}} (a user unit: enable lingering with
# "loginctl enable-linger USER" for it to run before the user logs in){{end}}.
[Unit]
Description=skiff: start containers with a restart policy
Documentation=https://github.com/skiff-engine/skiff/blob/main/docs/skiff-system-boot.md
StartLimitIntervalSec=0
{{- if not .User}}
Wants=network-online.target
After=network-online.target
{{- end}}

[Service]
Type=oneshot
RemainAfterExit=true
ExecStart={{.Skiff}} system boot
TimeoutStopSec=70

[Install]
WantedBy={{if .User}}default.target{{else}}multi-user.target{{end}}
`

// Parsed when first used, as the other templates and patterns of this
// package are: not at every command's start.
var bootUnitTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("unit").Parse(bootUnitText))
})

// bootUnit is the unit for skiff at path: the system one, or the user one.
func bootUnit(skiff string, user bool) []byte {
	var b bytes.Buffer
	bootUnitTemplate().Execute(&b, struct {
		Skiff string
		User  bool
	}{skiff, user})
	return b.Bytes()
}
