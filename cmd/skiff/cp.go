package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/containerd/errdefs"
	"github.com/urfave/cli/v2"
	starchive "go.podman.io/storage/pkg/archive"

	"github.com/skiff-engine/skiff/engine"
	"github.com/skiff-engine/skiff/engine/archive"
)

// cp is docker's client-side cp: the engine serves docker's archive
// operations (stat, get, put), and the renaming rules (trailing "/.",
// missing or existing destinations, -L) are applied here to the tar
// stream, as the docker CLI does, so that the API shim serves the same
// engine calls to docker's own client. The host side is ordinary file
// work as the calling user (go.podman.io/storage's pkg/archive, docker's
// rules); the container side never leaves the container's view.

// cpOptions are cp's flags and arguments, parsed.
type cpOptions struct {
	container  string
	src, dst   string
	toCtr      bool
	followLink bool
	copyUIDGID bool
	quiet      bool
	overwrite  bool
}

func cpCommand() *cli.Command {
	return &cli.Command{
		Name:  "cp",
		Usage: "copy files/folders between a container and the local filesystem",
		ArgsUsage: "CONTAINER:SRC_PATH DEST_PATH|-\n   skiff cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH\n\n" +
			"'-' as the source reads a tar archive from stdin and extracts it to a directory\n" +
			"of the container; '-' as the destination writes a tar archive of the source to stdout.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "archive", Aliases: []string{"a"}, Usage: "archive mode (copy all uid/gid information)"},
			&cli.BoolFlag{Name: "follow-link", Aliases: []string{"L"}, Usage: "always follow symlinks in SRC_PATH"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "suppress the summary (also when stdout is not a terminal)"},
			&cli.BoolFlag{Name: "overwrite", Usage: "allow directories to be overwritten with non-directories and vice versa"},
		},
		Action: func(c *cli.Context) error {
			o, err := cpOptionsFrom(c)
			if err != nil {
				return err
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				// ^C, or a reader of "-" that goes away (SIGPIPE), ends the
				// copy cleanly: a stopped container's mount and lock are
				// released before skiff exits.
				ctx, cancel := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM, syscall.SIGPIPE)
				defer cancel()
				if o.toCtr {
					return copyToContainer(ctx, e, o)
				}
				return copyFromContainer(ctx, e, o)
			})
		},
	}
}

func cpOptionsFrom(c *cli.Context) (cpOptions, error) {
	if err := requireArgs(c, 2, 2); err != nil {
		return cpOptions{}, err
	}
	src, dst := c.Args().Get(0), c.Args().Get(1)
	if src == "" {
		return cpOptions{}, fmt.Errorf("source can not be empty: %w", errdefs.ErrInvalidArgument)
	}
	if dst == "" {
		return cpOptions{}, fmt.Errorf("destination can not be empty: %w", errdefs.ErrInvalidArgument)
	}
	o := cpOptions{followLink: c.Bool("follow-link"), copyUIDGID: c.Bool("archive"), quiet: c.Bool("quiet"), overwrite: c.Bool("overwrite")}
	if !c.IsSet("quiet") {
		o.quiet = !isTerminal(os.Stdout) // docker: no summary without a terminal
	}
	srcCtr, srcPath := splitCpArg(src)
	dstCtr, dstPath := splitCpArg(dst)
	switch {
	case srcCtr != "" && dstCtr != "":
		return cpOptions{}, fmt.Errorf("copying between containers is not supported: %w", errdefs.ErrInvalidArgument)
	case srcCtr == "" && dstCtr == "":
		return cpOptions{}, fmt.Errorf("must specify at least one container source: %w", errdefs.ErrInvalidArgument)
	case dstCtr != "":
		o.container, o.toCtr = dstCtr, true
	default:
		o.container = srcCtr
	}
	o.src, o.dst = srcPath, dstPath
	return o, nil
}

// splitCpArg is docker's: CONTAINER:PATH, unless the argument is an
// absolute path or starts with "." (./file:name is a local file).
func splitCpArg(arg string) (ctr, path string) {
	if filepath.IsAbs(arg) {
		return "", arg
	}
	ctr, path, ok := strings.Cut(arg, ":")
	if !ok || strings.HasPrefix(ctr, ".") {
		return "", arg
	}
	return ctr, path
}

func localPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	return starchive.PreserveTrailingDotOrSeparator(abs, p), nil
}

func copyFromContainer(ctx context.Context, e *engine.Engine, o cpOptions) error {
	dst := o.dst
	if dst != "-" {
		var err error
		if dst, err = localPath(dst); err != nil {
			return err
		}
		if err := validateOutputPath(dst); err != nil {
			return err
		}
	}
	src, rebase := o.src, ""
	if o.followLink {
		st, err := e.ContainerStatPath(ctx, o.container, engine.ContainerStatPathOptions{Path: src})
		if err == nil && st.Stat.Mode&os.ModeSymlink != 0 {
			src, rebase = starchive.GetRebaseName(src, linkTarget(st.Stat, src))
		}
	}
	res, err := e.ContainerArchiveGet(ctx, o.container, engine.ContainerArchiveGetOptions{Path: src})
	if err != nil {
		return err
	}
	defer res.Content.Close()
	if dst == "-" {
		_, err := io.Copy(os.Stdout, res.Content)
		if errors.Is(err, syscall.EPIPE) {
			// The reader went away (| head): silent, with the status a
			// process killed by SIGPIPE has, as docker's.
			return &silentError{code: 128 + int(syscall.SIGPIPE)}
		}
		return err
	}
	var copied int64
	content := io.Reader(&countingReader{r: res.Content, n: &copied})
	info := starchive.CopyInfo{Path: src, Exists: true, IsDir: res.Stat.Mode.IsDir(), RebaseName: rebase}
	if rebase != "" {
		_, base := starchive.SplitPathDirEntry(src)
		content = starchive.RebaseArchiveEntries(content, base, rebase)
	}
	if err := extractLocal(content, info, dst, o.overwrite); err != nil {
		return err
	}
	if !o.quiet {
		size := copied
		if !res.Stat.Mode.IsDir() {
			size = res.Stat.Size
		}
		fmt.Fprint(os.Stderr, copySummary(size, copied, dst))
	}
	return nil
}

// linkTarget is where the symlink at path in the container leads, as the
// docker CLI joins it.
func linkTarget(st engine.ContainerPathStat, path string) string {
	if filepath.IsAbs(st.LinkTarget) {
		return st.LinkTarget
	}
	parent, _ := starchive.SplitPathDirEntry(path)
	return filepath.Join(parent, st.LinkTarget)
}

// extractLocal is docker's CopyTo with podman's --overwrite: the
// destination's kind decides where the stream goes and under which name.
// Owners are not restored: what is written belongs to the calling user.
func extractLocal(content io.Reader, src starchive.CopyInfo, dst string, overwrite bool) error {
	dstInfo, err := starchive.CopyInfoDestinationPath(dst)
	if err != nil {
		return err
	}
	dir, prepared, err := starchive.PrepareArchiveCopy(content, src, dstInfo)
	if err != nil {
		return cpError(err)
	}
	defer prepared.Close()
	return starchive.Untar(prepared, dir, &starchive.TarOptions{NoLchown: true, NoOverwriteDirNonDir: !overwrite})
}

func copyToContainer(ctx context.Context, e *engine.Engine, o cpOptions) error {
	src := o.src
	if src != "-" {
		var err error
		if src, err = localPath(src); err != nil {
			return err
		}
	}
	dstInfo, err := containerDest(ctx, e, o)
	if err != nil {
		return err
	}
	var (
		content     io.Reader
		dstDir      string
		copied      int64
		contentSize int64 = -1
	)
	if src == "-" {
		if !dstInfo.IsDir {
			return fmt.Errorf("destination %q must be a directory: %w", o.container+":"+o.dst, errdefs.ErrInvalidArgument)
		}
		content, dstDir = os.Stdin, dstInfo.Path
	} else {
		srcInfo, err := starchive.CopyInfoSourcePath(src, o.followLink)
		if err != nil {
			return err
		}
		contentSize = localContentSize(srcInfo.Path)
		tarred := tarLocal(srcInfo)
		defer tarred.Close()
		dir, prepared, err := starchive.PrepareArchiveCopy(tarred, srcInfo, dstInfo)
		if err != nil {
			return cpError(err)
		}
		defer prepared.Close()
		content, dstDir = &countingReader{r: prepared, n: &copied}, dir
	}
	_, err = e.ContainerArchivePut(ctx, o.container, engine.ContainerArchivePutOptions{
		Path: dstDir, Content: content, NoOverwriteDirNonDir: !o.overwrite, CopyUIDGID: o.copyUIDGID,
	})
	if err != nil {
		return err
	}
	if !o.quiet && src != "-" {
		size := copied
		if contentSize >= 0 {
			size = contentSize
		}
		fmt.Fprint(os.Stderr, copySummary(size, copied, o.container+":"+dstInfo.Path))
	}
	return nil
}

// containerDest is what the destination in the container is, as the
// docker CLI finds out: a symlink is followed (once, inside the
// container), and a missing destination is left for the put to judge.
func containerDest(ctx context.Context, e *engine.Engine, o cpOptions) (starchive.CopyInfo, error) {
	info := starchive.CopyInfo{Path: o.dst}
	st, err := e.ContainerStatPath(ctx, o.container, engine.ContainerStatPathOptions{Path: o.dst})
	if err == nil && st.Stat.Mode&os.ModeSymlink != 0 {
		info.Path = linkTarget(st.Stat, o.dst)
		st, err = e.ContainerStatPath(ctx, o.container, engine.ContainerStatPathOptions{Path: info.Path})
	}
	switch {
	case errors.Is(err, engine.ErrPathNotFound):
		return info, nil
	case err != nil:
		// Docker goes on to the put, which fails the same way (no such
		// container): stop before anything local is read.
		return info, err
	case !st.Stat.Mode.IsDir() && !st.Stat.Mode.IsRegular():
		return info, fmt.Errorf("destination %q must be a directory or a regular file: %w", o.container+":"+o.dst, errdefs.ErrInvalidArgument)
	}
	info.Exists, info.IsDir = true, st.Stat.Mode.IsDir()
	return info, nil
}

// tarLocal is docker's TarResource with skiff's tar writer, which keeps
// nanosecond mtimes (docker's rounds them to the second) and the
// security.capability attribute, as the container side writes them.
func tarLocal(src starchive.CopyInfo) io.ReadCloser {
	name := src.RebaseName
	if name == "" {
		_, name = starchive.SplitPathDirEntry(src.Path)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(archive.Tar(pw, src.Path, name)) }()
	return pr
}

// cpError gives pkg/archive's bare errors the words docker's users see.
func cpError(err error) error {
	switch {
	case errors.Is(err, starchive.ErrCannotCopyDir):
		return fmt.Errorf("cannot copy a directory onto an existing file: %w", errdefs.ErrInvalidArgument)
	case errors.Is(err, starchive.ErrDirNotExists):
		return fmt.Errorf("destination directory does not exist, and a file cannot become one (drop the trailing '/'): %w", errdefs.ErrInvalidArgument)
	}
	return err
}

// validateOutputPath is docker's check before a copy out: the parent
// exists, and what is there already is a directory or a regular file.
func validateOutputPath(path string) error {
	dir := filepath.Dir(filepath.Clean(path))
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("invalid output path: directory %q does not exist: %w", dir, errdefs.ErrInvalidArgument)
	}
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() && !fi.Mode().IsRegular() {
		return fmt.Errorf("invalid output path: %q must be a directory or a regular file: %w", path, errdefs.ErrInvalidArgument)
	}
	return nil
}

// localContentSize is the size of the regular files at path, -1 if it
// cannot be told.
func localContentSize(path string) int64 {
	var total int64
	err := filepath.WalkDir(path, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			total += fi.Size()
		}
		return nil
	})
	if err != nil {
		return -1
	}
	return total
}

// copySummary is docker's closing line, on stderr.
func copySummary(content, transferred int64, dest string) string {
	if content != transferred {
		return fmt.Sprintf("Successfully copied %s (transferred %s) to %s\n", humanSize(content), humanSize(transferred), dest)
	}
	return fmt.Sprintf("Successfully copied %s to %s\n", humanSize(content), dest)
}

type countingReader struct {
	r io.Reader
	n *int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	atomic.AddInt64(c.n, int64(n))
	return n, err
}
