package main

import (
	"reflect"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/skiff-engine/skiff/engine"
)

func TestParseResources(t *testing.T) {
	inf := uint64(unix.RLIM_INFINITY)
	zero := int64(0)
	tests := []struct {
		args []string
		want engine.Resources
		err  string
	}{
		{[]string{"-m", "512m"}, engine.Resources{Memory: 512 << 20}, ""},
		{[]string{"--memory", "4k"}, engine.Resources{Memory: 4096}, ""}, // below the minimum: the runtime's to refuse
		{[]string{"--memory", "1g", "--cpus", "1.5", "--pids-limit", "-1"}, engine.Resources{Memory: 1 << 30, NanoCPUs: 1.5e9, PidsLimit: -1}, ""},
		{[]string{"--cpus", "0.000000001"}, engine.Resources{NanoCPUs: 1}, ""},
		{[]string{"--cpus", "-2"}, engine.Resources{NanoCPUs: -2e9}, ""},
		{[]string{"--ulimit", "nofile=1024:2048", "--ulimit", "NPROC=512", "--ulimit", "core=0:unlimited", "--ulimit", "memlock=-1"},
			engine.Resources{Ulimits: []engine.Ulimit{{Name: "nofile", Soft: 1024, Hard: 2048}, {Name: "nproc", Soft: 512, Hard: 512},
				{Name: "core", Soft: 0, Hard: inf}, {Name: "memlock", Soft: inf, Hard: inf}}}, ""},
		{[]string{"--ulimit", "files=1"}, engine.Resources{Ulimits: []engine.Ulimit{{Name: "files", Soft: 1, Hard: 1}}}, ""},
		{[]string{"-c", "512", "--cpuset-cpus", "0-1", "--cpuset-mems", "0", "--memory-reservation", "256m", "--memory", "1g", "--memory-swap", "2g",
			"--memory-swappiness", "0", "--oom-kill-disable"},
			engine.Resources{CPUShares: 512, CpusetCpus: "0-1", CpusetMems: "0", MemoryReservation: 256 << 20, Memory: 1 << 30, MemorySwap: 2 << 30,
				MemorySwappiness: &zero, OomKillDisable: true}, ""},
		{[]string{"--memory-swap", "-1"}, engine.Resources{MemorySwap: -1}, ""},
		{[]string{"--memory-reservation", "x"}, engine.Resources{}, `invalid --memory-reservation "x": use a number with an optional unit (b, k, m, g), e.g. 512m`},
		{[]string{"--memory-swap", "-2"}, engine.Resources{}, `invalid --memory-swap "-2": use a number with an optional unit (b, k, m, g), e.g. 512m`},
		{[]string{"--memory", "abc"}, engine.Resources{}, `invalid --memory "abc": use a number with an optional unit (b, k, m, g), e.g. 512m`},
		{[]string{"--memory", "99999999999g"}, engine.Resources{}, `invalid --memory "99999999999g": too large (the limit must be below 4EiB)`},
		{[]string{"--cpus", "lots"}, engine.Resources{}, `invalid --cpus "lots": use a number such as 1.5`},
		{[]string{"--cpus", "NaN"}, engine.Resources{}, `invalid --cpus "NaN": use a number such as 1.5`},
		{[]string{"--ulimit", "nofile"}, engine.Resources{}, `invalid --ulimit "nofile": use NAME=SOFT[:HARD], e.g. nofile=1024:2048`},
		{[]string{"--ulimit", "nofile=1:2:3"}, engine.Resources{}, `invalid --ulimit "nofile=1:2:3": at most two values, SOFT[:HARD]`},
		{[]string{"--ulimit", "nofile=many"}, engine.Resources{}, `invalid --ulimit "nofile=many": "many" is not a number, -1 or unlimited`},
	}
	for _, tt := range tests {
		t.Run(tt.args[1], func(t *testing.T) {
			o, err := parseCreate(t, append(tt.args, "img")...)
			if errString(err) != tt.err {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
			if tt.err == "" && !reflect.DeepEqual(o.Resources, tt.want) {
				t.Errorf("%+v, want %+v", o.Resources, tt.want)
			}
		})
	}
}
