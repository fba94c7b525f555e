package api

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"

	"github.com/skiff-engine/skiff/engine"
	"github.com/skiff-engine/skiff/runtime"
)

// containerStats streams moby's StatsResponse, one JSON document per
// second (stream, the default), or answers one: with its previous CPU
// sample (stream=false, which reads twice), or without (one-shot=true).
func (s *Server) containerStats(w http.ResponseWriter, r *http.Request) {
	stream := r.URL.Query().Get("stream") == "" || boolParam(r, "stream")
	oneShot := boolParam(r, "one-shot")
	if stream && oneShot {
		writeError(w, fmt.Errorf("cannot have stream=true and one-shot=true: %w", errdefs.ErrInvalidArgument))
		return
	}
	lw := &lazyWriter{w: w, contentType: "application/json"}
	enc := json.NewEncoder(lw)
	o := engine.ContainerStatsOptions{Containers: []string{r.PathValue("id")}, Stream: stream, OneShot: oneShot,
		Send: func(round []engine.ContainerStats) error {
			for _, st := range round {
				if err := enc.Encode(statsResponse(st)); err != nil {
					return err
				}
			}
			return nil
		}}
	if _, err := s.e.ContainerStats(r.Context(), o); err != nil && !lw.started {
		writeError(w, err)
	}
}

// statsResponse is moby's StatsResponse of a sample; a container that is
// not running has only its ID and name, as Docker's.
func statsResponse(st engine.ContainerStats) container.StatsResponse {
	out := container.StatsResponse{ID: st.ID, Name: "/" + st.Name, OSType: "linux"}
	if !st.Running {
		return out
	}
	out.Read, out.PreRead = st.Read, st.PreRead
	out.CPUStats, out.PreCPUStats = cpuStats(st.CPU), cpuStats(st.PreCPU)
	m := st.Memory
	out.MemoryStats = container.MemoryStats{Usage: m.Usage, MaxUsage: m.MaxUsage, Stats: m.Stats, Failcnt: m.Failcnt, Limit: m.Limit}
	out.PidsStats = container.PidsStats{Current: st.Pids.Current, Limit: st.Pids.Limit}
	out.BlkioStats = container.BlkioStats{IoServiceBytesRecursive: blkio(st.BlkioBytes), IoServicedRecursive: blkio(st.BlkioOps)}
	out.Networks = map[string]container.NetworkStats{}
	for _, name := range slices.Sorted(maps.Keys(st.Networks)) {
		n := st.Networks[name]
		out.Networks[name] = container.NetworkStats{RxBytes: n.RxBytes, RxPackets: n.RxPackets, RxErrors: n.RxErrors, RxDropped: n.RxDropped,
			TxBytes: n.TxBytes, TxPackets: n.TxPackets, TxErrors: n.TxErrors, TxDropped: n.TxDropped}
	}
	return out
}

func cpuStats(c runtime.CPUStats) container.CPUStats {
	return container.CPUStats{
		CPUUsage:       container.CPUUsage{TotalUsage: c.Total, PercpuUsage: c.PerCPU, UsageInKernelmode: c.Kernel, UsageInUsermode: c.User},
		SystemUsage:    c.System,
		OnlineCPUs:     c.Online,
		ThrottlingData: container.ThrottlingData{Periods: c.Periods, ThrottledPeriods: c.ThrottledPeriods, ThrottledTime: c.ThrottledTime},
	}
}

// blkio is Docker's entries; the ops are Docker's words on cgroup v1
// ("Read", "Write") and v2 ("read", "write"), as the kernel's files.
func blkio(in []runtime.BlkioEntry) []container.BlkioStatEntry {
	out := make([]container.BlkioStatEntry, 0, len(in))
	for _, e := range in {
		out = append(out, container.BlkioStatEntry{Major: e.Major, Minor: e.Minor, Op: e.Op, Value: e.Value})
	}
	return out
}

// containerUpdate is POST /containers/{id}/update: moby's UpdateConfig,
// the limits skiff has (Memory, NanoCpus or CpuQuota and CpuPeriod,
// PidsLimit) and the restart policy; every other field set is a 400
// naming them all.
func (s *Server) containerUpdate(w http.ResponseWriter, r *http.Request) {
	var uc container.UpdateConfig
	if err := decodeBody(r, &uc); err != nil {
		writeError(w, err)
		return
	}
	o, err := updateOptions(uc)
	if err == nil {
		_, err = s.e.ContainerUpdate(r.Context(), r.PathValue("id"), o)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, container.UpdateResponse{Warnings: []string{}})
}

func updateOptions(uc container.UpdateConfig) (engine.ContainerUpdateOptions, error) {
	var o engine.ContainerUpdateOptions
	res := uc.Resources
	set := unhonoured(res)
	set["Ulimits"] = len(res.Ulimits) > 0
	set["MemorySwappiness"] = res.MemorySwappiness != nil && *res.MemorySwappiness != -1
	set["OomKillDisable"] = res.OomKillDisable != nil
	set["Devices"] = len(res.Devices) > 0 // a create's, never updated
	var refused []string
	for _, f := range slices.Sorted(maps.Keys(set)) {
		if set[f] {
			refused = append(refused, f)
		}
	}
	if len(refused) > 0 {
		return o, invalidf("%s: not supported by skiff's update", strings.Join(refused, ", "))
	}
	if res.Memory != 0 {
		o.Memory = &res.Memory
	}
	n, err := nanoCPUs(res)
	if err != nil {
		return o, err
	}
	if res.NanoCPUs != 0 || res.CPUQuota != 0 {
		o.NanoCPUs = &n
	}
	o.PidsLimit = res.PidsLimit
	if res.CPUShares != 0 {
		o.CPUShares = &res.CPUShares
	}
	if res.CpusetCpus != "" {
		o.CpusetCpus = &res.CpusetCpus
	}
	if res.CpusetMems != "" {
		o.CpusetMems = &res.CpusetMems
	}
	if res.MemoryReservation != 0 {
		o.MemoryReservation = &res.MemoryReservation
	}
	if res.MemorySwap != 0 {
		o.MemorySwap = &res.MemorySwap
	}
	if uc.RestartPolicy.Name != "" {
		o.RestartPolicy = &engine.RestartPolicy{Name: string(uc.RestartPolicy.Name), MaximumRetryCount: uc.RestartPolicy.MaximumRetryCount}
	}
	return o, nil
}
