package api

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"

	"github.com/skiff-engine/skiff/engine"
	"github.com/skiff-engine/skiff/runtime"
)

// TestUpdateOptions decodes update bodies as the docker CLI and the Go
// client send them.
func TestUpdateOptions(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	str := func(v string) *string { return &v }
	tests := []struct {
		name string
		body string
		want engine.ContainerUpdateOptions
		err  string
	}{
		{name: "empty", body: `{}`},
		{name: "memory", body: `{"Memory":134217728,"MemorySwap":-1}`, want: engine.ContainerUpdateOptions{Memory: i64(134217728), MemorySwap: i64(-1)}},
		{name: "shares, cpuset, reservation", body: `{"CpuShares":512,"CpusetCpus":"0","CpusetMems":"0","MemoryReservation":67108864}`,
			want: engine.ContainerUpdateOptions{CPUShares: i64(512), CpusetCpus: str("0"), CpusetMems: str("0"), MemoryReservation: i64(64 << 20)}},
		{name: "nano cpus", body: `{"NanoCpus":1500000000}`, want: engine.ContainerUpdateOptions{NanoCPUs: i64(1.5e9)}},
		{name: "quota", body: `{"CpuQuota":50000,"CpuPeriod":200000}`, want: engine.ContainerUpdateOptions{NanoCPUs: i64(2.5e8)}},
		{name: "pids", body: `{"PidsLimit":-1}`, want: engine.ContainerUpdateOptions{PidsLimit: i64(-1)}},
		{name: "restart", body: `{"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":3}}`,
			want: engine.ContainerUpdateOptions{RestartPolicy: &engine.RestartPolicy{Name: "on-failure", MaximumRetryCount: 3}}},
		{name: "unhonoured", body: `{"BlkioWeight":300,"MemorySwappiness":10,"Ulimits":[{"Name":"nofile","Soft":1,"Hard":2}]}`,
			err: "BlkioWeight, MemorySwappiness, Ulimits: not supported by skiff's update"},
		{name: "both cpus", body: `{"NanoCpus":1000000000,"CpuQuota":50000}`, err: "Conflicting options"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var uc container.UpdateConfig
			if err := json.Unmarshal([]byte(tt.body), &uc); err != nil {
				t.Fatal(err)
			}
			got, err := updateOptions(uc)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !errdefs.IsInvalidArgument(err) {
					t.Fatalf("err = %v, want InvalidArgument with %q", err, tt.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("updateOptions = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// TestStatsResponse: a sample in moby's shape, and a stopped container's
// zero sample with only its ID and name.
func TestStatsResponse(t *testing.T) {
	now := time.Now()
	st := engine.ContainerStats{ID: "abc", Name: "web", Running: true, PreRead: now.Add(-time.Second)}
	st.Read = now
	st.CPU = runtime.CPUStats{Total: 5, Kernel: 1, User: 4, PerCPU: []uint64{2, 3}, System: 100, Online: 2, Periods: 7}
	st.PreCPU = runtime.CPUStats{Total: 4, System: 90, Online: 2}
	st.Memory = runtime.MemoryStats{Usage: 10, MaxUsage: 12, Limit: 64, Stats: map[string]uint64{"cache": 1}}
	st.Pids = runtime.PidsStats{Current: 2, Limit: 50}
	st.BlkioBytes = []runtime.BlkioEntry{{Major: 8, Minor: 0, Op: "Read", Value: 4096}}
	st.Networks = map[string]runtime.InterfaceCounters{"eth0": {RxBytes: 1, TxPackets: 2}}
	got := statsResponse(st)
	if got.ID != "abc" || got.Name != "/web" || got.OSType != "linux" || !got.Read.Equal(now) || !got.PreRead.Equal(st.PreRead) {
		t.Errorf("identity and times: %+v", got)
	}
	wantCPU := container.CPUStats{CPUUsage: container.CPUUsage{TotalUsage: 5, PercpuUsage: []uint64{2, 3}, UsageInKernelmode: 1, UsageInUsermode: 4},
		SystemUsage: 100, OnlineCPUs: 2, ThrottlingData: container.ThrottlingData{Periods: 7}}
	if !reflect.DeepEqual(got.CPUStats, wantCPU) || got.PreCPUStats.SystemUsage != 90 || got.PreCPUStats.CPUUsage.TotalUsage != 4 {
		t.Errorf("cpu %+v, precpu %+v", got.CPUStats, got.PreCPUStats)
	}
	if got.MemoryStats.Usage != 10 || got.MemoryStats.Limit != 64 || got.MemoryStats.Stats["cache"] != 1 || got.PidsStats.Limit != 50 {
		t.Errorf("memory %+v, pids %+v", got.MemoryStats, got.PidsStats)
	}
	if got.BlkioStats.IoServiceBytesRecursive[0].Value != 4096 || got.Networks["eth0"].TxPackets != 2 {
		t.Errorf("blkio %+v, networks %+v", got.BlkioStats, got.Networks)
	}
	zero := statsResponse(engine.ContainerStats{ID: "abc", Name: "old"})
	if !reflect.DeepEqual(zero, container.StatsResponse{ID: "abc", Name: "/old", OSType: "linux"}) {
		t.Errorf("a stopped container's sample: %+v", zero)
	}
}
