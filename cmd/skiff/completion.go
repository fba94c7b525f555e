package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

// Shell completion: `skiff completion SHELL` prints a script whose
// completion function runs `skiff __complete WORD...` (the words after
// "skiff", the last being the one under the cursor) and offers what it
// prints, one candidate a line: commands, flags, container and image names.
// Everything is derived from the command definitions, so new commands and
// flags complete without touching the scripts.

var completionScripts = map[string]string{
	"bash": `# skiff completion for bash: source <(skiff completion bash)
_skiff() {
	local IFS=$'\n'
	COMPREPLY=($("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _skiff skiff
`,
	"zsh": `#compdef skiff
# skiff completion for zsh: source <(skiff completion zsh)
_skiff() {
	local -a cands
	cands=("${(@f)$("${words[1]}" __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
	if (( ${#cands} )) && [[ -n ${cands[1]} ]]; then
		compadd -Q -- "${cands[@]}"
	else
		_files
	fi
}
compdef _skiff skiff
`,
	"fish": `# skiff completion for fish: skiff completion fish | source
function __skiff_complete
	set -l toks (commandline -opc) (commandline -ct)
	$toks[1] __complete $toks[2..-1] 2>/dev/null
end
complete -c skiff -f -a '(__skiff_complete)'
`,
}

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script (bash, zsh or fish)",
		ArgsUsage: "bash|zsh|fish",
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, 1); err != nil {
				return err
			}
			script, ok := completionScripts[c.Args().First()]
			if !ok {
				return fmt.Errorf("no completion for shell %q: use bash, zsh or fish", c.Args().First())
			}
			_, err := fmt.Print(script)
			return err
		},
	}
}

// completeCommand is what the scripts call. It never fails: a broken store
// completes nothing.
func completeCommand() *cli.Command {
	return &cli.Command{
		Name:            "__complete",
		Hidden:          true,
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			words := c.Args().Slice()
			if len(words) == 0 {
				words = []string{""}
			}
			base := engine.Options{ConfigPath: c.String("config"), Root: c.String("root"), RunRoot: c.String("runroot"),
				StorageDriver: c.String("storage-driver"), StorageOpts: c.StringSlice("storage-opt")}
			for _, w := range complete(c.App, base, words) {
				fmt.Println(w)
			}
			return nil
		},
	}
}

// complete returns the candidates for the last word, given those before;
// global flags among the words override those of base.
func complete(app *cli.App, base engine.Options, words []string) []string {
	cur, before := words[len(words)-1], words[:len(words)-1]
	global := map[string]string{}
	flags, cmds := app.Flags, app.Commands
	var cmd *cli.Command
	var args []string // positional arguments of the command so far
	for i := 0; i < len(before); i++ {
		w := before[i]
		if isFlagArg(w) && !(cmd != nil && argsAreCommand[cmd.Name] && len(args) > 0) {
			if flagSpan(flags, before, i) == 2 {
				if i+1 < len(before) && cmd == nil {
					global[strings.TrimLeft(w, "-")] = before[i+1]
				}
				i++
			}
			continue
		}
		if cmd == nil || len(cmd.Subcommands) > 0 {
			if next := findCommand(cmds, w); next != nil {
				cmd, flags, cmds = next, next.Flags, next.Subcommands
				continue
			}
		}
		args = append(args, w)
	}
	if len(before) > 0 && isFlagArg(before[len(before)-1]) && flagSpan(flags, before, len(before)-1) == 2 {
		return nil // a flag's value: the shell's own (file) completion
	}
	switch {
	case strings.HasPrefix(cur, "-"):
		return withPrefix(flagNames(flags), cur)
	case cmd == nil || len(cmd.Subcommands) > 0:
		return withPrefix(commandNames(cmds), cur)
	}
	kind := argKind(cmd, len(args))
	if kind == "" {
		return nil
	}
	for k, p := range map[string]*string{"config": &base.ConfigPath, "root": &base.Root, "runroot": &base.RunRoot, "storage-driver": &base.StorageDriver} {
		if v, ok := global[k]; ok {
			*p = v
		}
	}
	return withPrefix(storeNames(base, kind), cur)
}

// argKind says what the command's positional argument number n names,
// "container", "image" or "volume", from its usage line; a last word ending in
// "...]" repeats (CONTAINER [CONTAINER...]).
func argKind(cmd *cli.Command, n int) string {
	usage := strings.Fields(cmd.ArgsUsage)
	if n >= len(usage) {
		if len(usage) == 0 || !strings.HasSuffix(usage[len(usage)-1], "...]") {
			return ""
		}
		n = len(usage) - 1
	}
	switch w := strings.TrimLeft(usage[n], "["); {
	case strings.HasPrefix(w, "CONTAINER"):
		return "container"
	case strings.HasPrefix(w, "IMAGE"), strings.HasPrefix(w, "SOURCE_IMAGE"), strings.HasPrefix(w, "REPOSITORY"):
		return "image"
	case strings.HasPrefix(w, "VOLUME"):
		return "volume"
	}
	return ""
}

func flagNames(flags []cli.Flag) []string {
	out := []string{"--help"}
	for _, f := range flags {
		for _, n := range f.Names() {
			out = append(out, dashed(n))
		}
	}
	return out
}

func commandNames(cmds []*cli.Command) []string {
	var out []string
	for _, c := range cmds {
		if !c.Hidden {
			out = append(out, c.Names()...)
		}
	}
	return out
}

// storeNames lists container, image or volume names of the store o selects.
func storeNames(o engine.Options, kind string) []string {
	e, err := engine.New(context.Background(), o)
	if err != nil {
		return nil
	}
	defer e.Close()
	var out []string
	switch kind {
	case "container":
		res, _ := e.ContainerList(context.Background(), engine.ContainerListOptions{All: true})
		for _, c := range res.Containers {
			out = append(out, c.Name)
		}
		return out
	case "volume":
		res, _ := e.VolumeList(context.Background(), engine.VolumeListOptions{})
		for _, v := range res.Volumes {
			out = append(out, v.Name)
		}
		return out
	}
	res, _ := e.ImageList(context.Background(), engine.ImageListOptions{})
	for _, img := range res.Images {
		for _, n := range img.Names {
			repo, tag := engine.SplitRepoTag(n)
			out = append(out, repo+":"+tag)
		}
	}
	return out
}

func withPrefix(cands []string, prefix string) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range cands {
		if strings.HasPrefix(c, prefix) && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}
