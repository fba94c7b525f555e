package engine

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
)

// A generated unit runs a container under systemd with no daemon: the
// monitor is the unit's main process. `skiff start` (or, with New, `skiff
// run -d`) forks it and returns; the monitor tells systemd its own pid and
// READY=1 once the container's process runs (Type=notify, NotifyAccess=all,
// since the message comes from a process systemd did not start), and exits
// with the container's exit code, so that Restart=on-failure acts on the
// container's failures. KillMode=mixed: systemd's SIGTERM goes to the
// monitor alone, which stops the container with its stop signal and
// timeout (rootless, the container's processes share the unit's cgroup and
// must not all get SIGTERM at once); whatever is left in the unit's cgroup
// afterwards (an exit command, slirp4netns) gets the final SIGKILL.

// SystemdRestartPolicies are systemd's Restart= values.
var SystemdRestartPolicies = []string{"no", "on-success", "on-failure", "on-abnormal", "on-watchdog", "on-abort", "always"}

// GenerateSystemdOptions are `generate systemd`'s.
type GenerateSystemdOptions struct {
	New             bool     // create the container on start and remove it on stop
	UseName         bool     // the container's name in the unit instead of its ID
	RestartPolicy   string   // systemd's Restart=; "" is on-failure
	RestartSec      uint     // RestartSec=; 0 leaves systemd's default
	StopTimeout     *int     // seconds; nil is the container's own
	ContainerPrefix string   // "" is "container"
	Separator       string   // between the prefix and the name; "" is "-"
	NoHeader        bool     // no comment header
	Wants           []string // further [Unit] dependencies
	After           []string
	Requires        []string
	Env             []string // NAME=value for the unit's Environment=
	// SkiffBinary is the skiff the unit runs; "" is this process's executable.
	SkiffBinary string
	// SplitCreateCommand splits a recorded create command (New): the
	// command line's syntax is the caller's to know, not the engine's.
	SplitCreateCommand func(argv []string) (CreateCommandParts, error)
}

// CreateCommandParts is a recorded create command taken apart by the CLI
// that wrote it, without the flags a --new unit sets itself (-d, --rm,
// --replace, --cidfile, --sdnotify).
type CreateCommandParts struct {
	Global   []string // the flags before the command (--root...)
	Flags    []string // run's (or create's) other flags, as typed
	Args     []string // IMAGE [COMMAND [ARG...]]
	Named    bool     // --name was given: the unit replaces a container of that name
	SdNotify string   // --sdnotify's value, "" when not given
}

// GenerateSystemdResult is one unit.
type GenerateSystemdResult struct {
	Name string // the unit's file name, <prefix><separator><name or ID>.service
	Unit string // its text
}

// GenerateSystemd writes a systemd unit that runs container ref.
func (e *Engine) GenerateSystemd(ctx context.Context, ref string, o GenerateSystemdOptions) (GenerateSystemdResult, error) {
	policy := firstNonEmpty(o.RestartPolicy, "on-failure")
	if !slices.Contains(SystemdRestartPolicies, policy) {
		return GenerateSystemdResult{}, invalid("invalid restart policy %q: use one of %s", policy, strings.Join(SystemdRestartPolicies, ", "))
	}
	if err := checkEnv(o.Env); err != nil {
		return GenerateSystemdResult{}, err
	}
	c, err := e.lookupContainer(ref)
	if err != nil {
		return GenerateSystemdResult{}, err
	}
	binary := o.SkiffBinary
	if binary == "" {
		if binary, err = os.Executable(); err != nil {
			return GenerateSystemdResult{}, err
		}
	}
	ident := c.ID
	if o.UseName {
		ident = c.Name
	}
	u := systemdUnit{
		Service: firstNonEmpty(o.ContainerPrefix, "container") + firstNonEmpty(o.Separator, "-") + ident + ".service",
		Binary:  binary, Global: e.storeFlags(), Ref: ident, StopTimeout: c.Config.StopTimeout,
		Restart: policy, RestartSec: o.RestartSec, Rootless: e.paths.Rootless, NoHeader: o.NoHeader,
		Mounts: []string{e.paths.GraphRoot, e.paths.RunRoot},
		Wants:  o.Wants, After: o.After, Requires: o.Requires, Env: o.Env,
	}
	if o.StopTimeout != nil {
		u.StopTimeout = *o.StopTimeout
	}
	if o.New {
		if len(c.Config.CreateCommand) == 0 || o.SplitCreateCommand == nil {
			return GenerateSystemdResult{}, fmt.Errorf("container %s has no recorded create command (it was not created by skiff create or run): generate its unit without --new: %w", c.Name, errdefs.ErrFailedPrecondition)
		}
		parts, err := o.SplitCreateCommand(c.Config.CreateCommand)
		if err != nil {
			return GenerateSystemdResult{}, fmt.Errorf("container %s: its create command: %w", c.Name, err)
		}
		u.New = &parts
	}
	return GenerateSystemdResult{Name: u.Service, Unit: u.text()}, nil
}

// checkEnv refuses Environment= entries that are not NAME=value.
func checkEnv(env []string) error {
	for _, kv := range env {
		if name, _, ok := strings.Cut(kv, "="); !ok || name == "" || strings.ContainsAny(name, " \t\n\"'\\") {
			return invalid("invalid environment %q: use NAME=value", kv)
		}
	}
	return nil
}

// storeFlags are the global flags that select this engine's store, as the
// caller gave them: a unit must open the same store.
func (e *Engine) storeFlags() []string {
	var out []string
	for _, f := range [][2]string{{"--root", e.opts.Root}, {"--runroot", e.opts.RunRoot},
		{"--storage-driver", e.opts.StorageDriver}, {"--config", e.opts.ConfigPath}} {
		if f[1] != "" {
			out = append(out, f[0], f[1])
		}
	}
	for _, o := range e.opts.StorageOpts {
		out = append(out, "--storage-opt", o)
	}
	return out
}

// systemdUnit is everything a unit's text depends on.
type systemdUnit struct {
	Service     string   // the unit's name
	Binary      string   // skiff
	Global      []string // skiff's store flags, for start and stop
	Ref         string   // the container's ID or name
	StopTimeout int
	Restart     string
	RestartSec  uint
	Rootless    bool // a user unit
	NoHeader    bool
	Mounts      []string // RequiresMountsFor=
	Wants       []string
	After       []string
	Requires    []string
	Env         []string
	New         *CreateCommandParts // nil: start and stop the existing container
}

// cidFile is where a --new unit's container ID lives while it runs.
const cidFile = "%t/%n.ctr-id"

func (u systemdUnit) text() string {
	var b strings.Builder
	line := func(key string, values ...string) {
		for _, v := range values {
			fmt.Fprintf(&b, "%s=%s\n", key, v)
		}
	}
	if !u.NoHeader {
		fmt.Fprintf(&b, "# %s\n# autogenerated by skiff generate systemd\n\n", u.Service)
	}
	b.WriteString("[Unit]\n")
	line("Description", "skiff "+u.Service)
	line("Documentation", "man:skiff-generate-systemd(1)")
	wants, after := u.Wants, u.After
	if !u.Rootless { // a user manager has no network-online.target
		wants = append([]string{"network-online.target"}, wants...)
		after = append([]string{"network-online.target"}, after...)
	}
	line("Wants", wants...)
	line("After", after...)
	line("Requires", u.Requires...)
	line("RequiresMountsFor", strings.Join(quoteValues(u.Mounts), " "))
	b.WriteString("\n[Service]\n")
	line("Environment", "SKIFF_SYSTEMD_UNIT=%n")
	line("Environment", quoteValues(u.Env)...)
	line("Restart", u.Restart)
	if u.RestartSec > 0 {
		line("RestartSec", strconv.FormatUint(uint64(u.RestartSec), 10))
	}
	line("TimeoutStopSec", strconv.Itoa(u.StopTimeout+60))
	t := strconv.Itoa(u.StopTimeout)
	skiff := append([]string{u.Binary}, u.Global...)
	if u.New == nil {
		line("ExecStart", execLine(skiff, []string{"start", u.Ref}))
		line("ExecStop", execLine(skiff, []string{"stop", "-t", t, u.Ref}))
	} else {
		line("ExecStartPre", "/bin/rm -f "+cidFile)
		line("ExecStart", u.runLine())
		line("ExecStop", execLine(skiff, []string{"stop", "--ignore", "-t", t}, "--cidfile="+cidFile))
		line("ExecStopPost", execLine(skiff, []string{"rm", "-f", "--ignore", "-t", t}, "--cidfile="+cidFile))
	}
	line("Type", "notify")
	line("NotifyAccess", "all")
	line("KillMode", "mixed")
	b.WriteString("\n[Install]\n")
	if u.Rootless {
		line("WantedBy", "default.target")
	} else {
		line("WantedBy", "multi-user.target")
	}
	return b.String()
}

// runLine is a --new unit's ExecStart: the recorded command as a detached
// run that removes its container at exit, writes its ID where stop and rm
// find it, and lets the monitor (or, as asked, the container) notify.
func (u systemdUnit) runLine() string {
	p := u.New
	notify := "monitor"
	if p.SdNotify == "container" {
		notify = "container"
	}
	own := []string{"--cidfile=" + cidFile}
	args := []string{"--sdnotify=" + notify, "--rm", "-d"}
	if p.Named {
		args = append(args, "--replace")
	}
	args = append(append(args, p.Flags...), p.Args...)
	return execLine(append([]string{u.Binary}, p.Global...), []string{"run"}, append(own, quoteAll(args)...)...)
}

// execLine is a command line for Exec*=: head and args quoted, then the
// unit's own arguments (with their % specifiers) as they are.
func execLine(head, args []string, own ...string) string {
	words := quoteAll(append(slices.Clone(head), args...))
	if len(args) > 0 && len(own) > 0 {
		// The unit's own flags go right after the verb.
		words = slices.Insert(words, len(head)+1, own...)
	}
	return strings.Join(words, " ")
}

// quoteAll makes each word one word of an Exec*= command line, where
// systemd expands both specifiers (%) and variables ($).
func quoteAll(words []string) []string {
	return quoteEach(words, strings.NewReplacer("%", "%%", "$", "$$"))
}

// quoteValues makes each word one word of a setting that expands
// specifiers only (Environment=, RequiresMountsFor=).
func quoteValues(words []string) []string { return quoteEach(words, strings.NewReplacer("%", "%%")) }

// quoteEach escapes what systemd would expand, and quotes a word that
// holds white space, quotes or a backslash, is empty, or is a lone ";"
// (which would end a command).
func quoteEach(words []string, expand *strings.Replacer) []string {
	out := make([]string, len(words))
	for i, w := range words {
		w = expand.Replace(w)
		if w == "" || w == ";" || strings.ContainsAny(w, " \t\n\"'\\") {
			w = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`).Replace(w) + `"`
		}
		out[i] = w
	}
	return out
}
