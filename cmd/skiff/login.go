package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/skiff-engine/skiff/engine"
)

func loginCommand() *cli.Command {
	return &cli.Command{
		Name:      "login",
		Usage:     "log in to a registry",
		ArgsUsage: "[SERVER]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "username", Aliases: []string{"u"}, Usage: "username"},
			&cli.StringFlag{Name: "password", Aliases: []string{"p"}, Usage: "password (prefer --password-stdin)"},
			&cli.BoolFlag{Name: "password-stdin", Usage: "read the password from stdin"},
			tlsVerifyFlag, authFileFlagDef,
		},
		Action: transfers(func(c *cli.Context) error {
			if err := requireArgs(c, 0, 1); err != nil {
				return err
			}
			user, pass, err := credentials(c)
			if err != nil {
				return err
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				o := engine.LoginOptions{Username: user, Password: pass, TLSVerify: tlsVerify(c)}
				if _, err := e.Login(ctx, c.Args().First(), o); err != nil {
					return err
				}
				fmt.Println("Login Succeeded")
				return nil
			})
		}),
	}
}

// credentials reads -u/-p, --password-stdin, or prompts on a terminal.
func credentials(c *cli.Context) (string, string, error) {
	user, pass := c.String("username"), c.String("password")
	if c.Bool("password-stdin") {
		if pass != "" {
			return "", "", fmt.Errorf("--password and --password-stdin are mutually exclusive")
		}
		if user == "" {
			return "", "", fmt.Errorf("--password-stdin needs --username")
		}
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			return "", "", err
		}
		pass = strings.TrimRight(string(b), "\r\n")
	}
	if user == "" && isTerminal(os.Stdin) {
		fmt.Print("Username: ")
		line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
		user = strings.TrimSpace(line)
	}
	if pass == "" && isTerminal(os.Stdin) {
		fmt.Print("Password: ")
		b, err := term.ReadPassword(int(os.Stdin.Fd()))
		fmt.Println()
		if err != nil {
			return "", "", err
		}
		pass = string(b)
	}
	return user, pass, nil
}

func logoutCommand() *cli.Command {
	return &cli.Command{
		Name:      "logout",
		Usage:     "log out from a registry",
		ArgsUsage: "[SERVER]",
		Flags:     []cli.Flag{authFileFlagDef},
		Action: transfers(func(c *cli.Context) error {
			if err := requireArgs(c, 0, 1); err != nil {
				return err
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				res, err := e.Logout(ctx, c.Args().First(), engine.LogoutOptions{})
				if err != nil {
					return err
				}
				server := c.Args().First()
				if server == "" {
					server = "docker.io"
				}
				if res.Removed {
					fmt.Printf("Removing login credentials for %s\n", server)
				} else {
					fmt.Printf("Not logged in to %s\n", server)
				}
				return nil
			})
		}),
	}
}
