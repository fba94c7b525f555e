package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
)

// --cidfile is the command line's: the file is claimed before the container
// is created (an existing one is refused, as Docker's), gets the ID once it
// is, and is removed when the create fails.

var cidfileFlag = &cli.StringFlag{Name: "cidfile", Usage: "write the container ID to the file"}

type cidFile struct {
	path string
	f    *os.File
}

// openCIDFile claims path, which must not exist; "" is no file.
func openCIDFile(path string) (*cidFile, error) {
	if path == "" {
		return &cidFile{}, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("container ID file found, make sure the other container isn't running or delete %s", path)
	}
	if err != nil {
		return nil, fmt.Errorf("--cidfile: %v", err)
	}
	return &cidFile{path: path, f: f}, nil
}

// write records id and closes the file.
func (c *cidFile) write(id string) error {
	if c.f == nil {
		return nil
	}
	_, err := c.f.WriteString(id)
	if cerr := c.f.Close(); err == nil {
		err = cerr
	}
	c.f = nil
	if err != nil {
		os.Remove(c.path)
		return fmt.Errorf("--cidfile %s: %v", c.path, err)
	}
	return nil
}

// discard removes a file that never got an ID.
func (c *cidFile) discard() {
	if c.f != nil {
		c.f.Close()
		c.f = nil
		os.Remove(c.path)
	}
}

// cidfileTargetFlag is stop's and rm's --cidfile (podman's): act on the
// container whose ID the file holds, as a generated unit does.
var cidfileTargetFlag = &cli.StringSliceFlag{Name: "cidfile", Usage: "act on the container whose ID the file holds (repeatable)"}

// cidfileTargets reads the IDs of --cidfile; with --ignore a file that
// does not exist names no container.
func cidfileTargets(c *cli.Context) ([]string, error) {
	var ids []string
	for _, path := range c.StringSlice("cidfile") {
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) && c.Bool("ignore") {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("--cidfile: %v", err)
		}
		id := strings.TrimSpace(string(b))
		if id == "" {
			return nil, fmt.Errorf("--cidfile %s holds no container ID", path)
		}
		ids = append(ids, id)
	}
	return ids, nil
}
