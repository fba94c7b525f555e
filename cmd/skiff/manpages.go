package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
)

// Man pages are generated from the command definitions, so they never
// disagree with --help: `skiff __man DIR` writes skiff.1 and one
// skiff-COMMAND[-SUB].1 per visible command (`make man`, installed by
// `make install`). The build keeps urfave/cli's urfave_cli_no_docs tag:
// this small roff writer needs none of its go-md2man machinery. The longer
// prose stays in docs/skiff-*.md, which each page names.

func manCommand() *cli.Command {
	return &cli.Command{
		Name:      "__man",
		Hidden:    true,
		ArgsUsage: "DIR",
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, 1); err != nil {
				return err
			}
			return writeManPages(c.App, c.Args().First())
		},
	}
}

func writeManPages(app *cli.App, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	pages := map[string]string{"skiff": appManPage(app)}
	var walk func(path []string, cmds []*cli.Command)
	walk = func(path []string, cmds []*cli.Command) {
		for _, c := range cmds {
			if c.Hidden {
				continue
			}
			p := append(append([]string{}, path...), c.Name)
			pages["skiff-"+strings.Join(p, "-")] = commandManPage(p, c)
			walk(p, c.Subcommands)
		}
	}
	walk(nil, app.Commands)
	for name, text := range pages {
		if err := os.WriteFile(filepath.Join(dir, name+".1"), []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func appManPage(app *cli.App) string {
	var b strings.Builder
	manHeader(&b, "skiff", app.Usage)
	fmt.Fprintf(&b, ".SH SYNOPSIS\n\\fBskiff\\fR [\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGUMENTS\\fR]\n")
	fmt.Fprintf(&b, ".SH DESCRIPTION\n%s\n", roff("skiff is a daemonless, rootless container engine with Docker's command line. Options may follow a command's arguments, except for run, create and exec, whose arguments after the image or container are the container's command. See docs/skiff.md."))
	manFlags(&b, "GLOBAL OPTIONS", app.Flags)
	manCommands(&b, nil, app.Commands)
	fmt.Fprintf(&b, ".SH SEE ALSO\nskiff\\-run(1), skiff\\-ps(1), skiff\\-images(1)\n")
	return b.String()
}

func commandManPage(path []string, c *cli.Command) string {
	var b strings.Builder
	full := "skiff " + strings.Join(path, " ")
	manHeader(&b, "skiff-"+strings.Join(path, "-"), c.Usage)
	fmt.Fprintf(&b, ".SH SYNOPSIS\n\\fB%s\\fR", roff(full))
	if len(c.Flags) > 0 {
		b.WriteString(" [\\fIOPTIONS\\fR]")
	}
	if len(c.Subcommands) > 0 {
		b.WriteString(" \\fICOMMAND\\fR")
	}
	if c.ArgsUsage != "" {
		fmt.Fprintf(&b, " %s", roff(c.ArgsUsage))
	}
	b.WriteString("\n")
	if len(c.Aliases) > 0 {
		fmt.Fprintf(&b, ".PP\nAlso: %s.\n", roff(strings.Join(c.Aliases, ", ")))
	}
	desc := c.Description
	if desc == "" {
		desc = strings.ToUpper(c.Usage[:1]) + c.Usage[1:] + "."
	}
	fmt.Fprintf(&b, ".SH DESCRIPTION\n%s\n.PP\n%s\n", roff(desc),
		roff("The full description, with examples and exit codes, is in docs/ of skiff's sources (docs/skiff.md lists the pages)."))
	manFlags(&b, "OPTIONS", c.Flags)
	manCommands(&b, path, c.Subcommands)
	fmt.Fprintf(&b, ".SH SEE ALSO\nskiff(1)\n")
	return b.String()
}

func manHeader(b *strings.Builder, name, usage string) {
	fmt.Fprintf(b, ".TH %s 1 \"\" \"skiff %s\" \"skiff manual\"\n", strings.ToUpper(roff(name)), roff(version))
	fmt.Fprintf(b, ".SH NAME\n%s \\- %s\n", roff(name), roff(usage))
}

func manFlags(b *strings.Builder, title string, flags []cli.Flag) {
	if len(flags) == 0 {
		return
	}
	fmt.Fprintf(b, ".SH %s\n", title)
	for _, f := range flags {
		d, ok := f.(cli.DocGenerationFlag)
		if !ok {
			continue
		}
		var names []string
		for _, n := range f.Names() {
			names = append(names, "\\fB"+roff(dashed(n))+"\\fR")
		}
		head := strings.Join(names, ", ")
		if d.TakesValue() {
			head += " \\fIVALUE\\fR"
		}
		text := d.GetUsage()
		if v := d.GetValue(); d.TakesValue() && v != "" && v != `""` && v != "0" && v != "-1" {
			text += " (default: " + v + ")"
		}
		if env := d.GetEnvVars(); len(env) > 0 {
			text += " (environment: $" + strings.Join(env, ", $") + ")"
		}
		fmt.Fprintf(b, ".TP\n%s\n%s\n", head, roff(text))
	}
}

func manCommands(b *strings.Builder, path []string, cmds []*cli.Command) {
	if len(cmds) == 0 {
		return
	}
	b.WriteString(".SH COMMANDS\n")
	for _, c := range cmds {
		if c.Hidden {
			continue
		}
		page := "skiff-" + strings.Join(append(append([]string{}, path...), c.Name), "-")
		fmt.Fprintf(b, ".TP\n\\fB%s\\fR\n%s, see %s(1)\n", roff(c.Name), roff(c.Usage), roff(page))
	}
}

// roff escapes text for a roff line: backslashes, hyphens (so they stay
// ASCII minus signs that can be searched and copied), and a leading dot or
// quote, which roff would take for a request.
func roff(s string) string {
	s = strings.NewReplacer(`\`, `\e`, "-", `\-`, "\n", " ").Replace(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}
