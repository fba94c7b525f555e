package runtime

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// readProcessStats samples a container that has no cgroup of its own by
// summing the processes in its init's PID namespace (such a container
// always has one: see LibcontainerConfig). What this cannot see: the CPU
// time of processes that already exited, the page cache, and a limit
// (there is none).
func readProcessStats(pid int) (Stats, error) {
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	if err != nil {
		return Stats{}, fmt.Errorf("process %d: %w", pid, notRunning(strconv.Itoa(pid)))
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return Stats{}, err
	}
	st := Stats{FromProcesses: true}
	var read, written uint64
	page := uint64(os.Getpagesize())
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		dir := "/proc/" + e.Name()
		if l, err := os.Readlink(dir + "/ns/pid"); err != nil || l != ns {
			continue
		}
		p, err := readProcStat(dir + "/stat")
		if err != nil {
			continue // it exited meanwhile
		}
		st.CPU.User += p.utime * (1e9 / clockTick)
		st.CPU.Kernel += p.stime * (1e9 / clockTick)
		st.Memory.Usage += p.rss * page
		st.Pids.Current += p.threads
		r, w := readProcIO(dir + "/io")
		read, written = read+r, written+w
	}
	if st.Pids.Current == 0 {
		return Stats{}, notRunning(strconv.Itoa(pid))
	}
	st.CPU.Total = st.CPU.User + st.CPU.Kernel
	st.BlkioBytes = []BlkioEntry{{Op: "read", Value: read}, {Op: "write", Value: written}}
	return st, nil
}

type procStat struct{ utime, stime, threads, rss uint64 }

// readProcStat reads proc(5)'s stat fields 14, 15, 20 and 24 (after the
// command name, which may hold spaces and parentheses).
func readProcStat(path string) (procStat, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return procStat{}, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, errors.New(path + ": no command")
	}
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3
	if len(f) < 22 {
		return procStat{}, errors.New(path + ": short")
	}
	var v [4]uint64
	for k, n := range []int{14, 15, 20, 24} {
		if v[k], err = strconv.ParseUint(f[n-3], 10, 64); err != nil {
			return procStat{}, fmt.Errorf("%s: %v", path, err)
		}
	}
	return procStat{utime: v[0], stime: v[1], threads: v[2], rss: v[3]}, nil
}

// readProcIO reads read_bytes and write_bytes of proc(5)'s io (0, 0 when
// it cannot be read).
func readProcIO(path string) (read, written uint64) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0
	}
	for line := range bytes.Lines(b) {
		k, v, _ := strings.Cut(strings.TrimSpace(string(line)), ": ")
		n, _ := strconv.ParseUint(v, 10, 64)
		switch k {
		case "read_bytes":
			read = n
		case "write_bytes":
			written = n
		}
	}
	return read, written
}
