package main

import (
	"testing"

	"github.com/skiff-engine/skiff/engine"
	"github.com/skiff-engine/skiff/runtime"
)

func TestStatsRows(t *testing.T) {
	running := engine.ContainerStats{ID: "0123456789abcdef", Name: "web", Running: true}
	running.CPU = runtime.CPUStats{Total: 3e9, System: 20e9, Online: 2}
	running.PreCPU = runtime.CPUStats{Total: 2e9, System: 18e9}
	running.Memory = runtime.MemoryStats{Usage: 3 << 20, Limit: 64 << 20, Stats: map[string]uint64{"total_inactive_file": 1 << 20, "inactive_file": 2 << 20}}
	running.Networks = map[string]runtime.InterfaceCounters{"eth0": {RxBytes: 1500, TxBytes: 20}, "eth1": {RxBytes: 500}}
	running.BlkioBytes = []runtime.BlkioEntry{{Op: "Read", Value: 4096}, {Op: "write", Value: 1e6}, {Op: "Sync", Value: 7}, {Op: "Total", Value: 9}}
	running.Pids.Current = 3
	v2 := running
	v2.Name, v2.Memory.Stats = "v2", map[string]uint64{"inactive_file": 2 << 20}
	noPrev := running
	noPrev.Name, noPrev.PreCPU = "first", runtime.CPUStats{}
	stopped := engine.ContainerStats{ID: "fedcba9876543210", Name: "old"}
	for _, c := range []struct {
		s    engine.ContainerStats
		want statsRow
	}{
		// CPU: 1 s of 2 s of host time on 2 CPUs; memory less v1's cache.
		{running, statsRow{ID: "0123456789ab", Container: "0123456789ab", Name: "web", CPUPerc: "100.00%", MemUsage: "2MiB / 64MiB", MemPerc: "3.12%",
			NetIO: "2kB / 20B", BlockIO: "4.1kB / 1MB", PIDs: "3"}},
		{v2, statsRow{ID: "0123456789ab", Container: "0123456789ab", Name: "v2", CPUPerc: "100.00%", MemUsage: "1MiB / 64MiB", MemPerc: "1.56%",
			NetIO: "2kB / 20B", BlockIO: "4.1kB / 1MB", PIDs: "3"}},
		{noPrev, statsRow{ID: "0123456789ab", Container: "0123456789ab", Name: "first", CPUPerc: "30.00%", MemUsage: "2MiB / 64MiB", MemPerc: "3.12%",
			NetIO: "2kB / 20B", BlockIO: "4.1kB / 1MB", PIDs: "3"}},
		{stopped, statsRow{ID: "fedcba987654", Container: "fedcba987654", Name: "old", CPUPerc: "0.00%", MemUsage: "0B / 0B", MemPerc: "0.00%",
			NetIO: "0B / 0B", BlockIO: "0B / 0B", PIDs: "0"}},
	} {
		t.Run(c.s.Name, func(t *testing.T) {
			got := statsRows([]engine.ContainerStats{c.s}, nil, false)[0].(statsRow)
			if got != c.want {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
	// Names given: Container is the name as given; --no-trunc the full ID.
	got := statsRows([]engine.ContainerStats{running}, []string{"01234"}, true)[0].(statsRow)
	if got.Container != "01234" || got.ID != running.ID {
		t.Errorf("given names, no-trunc: %+v", got)
	}
}
