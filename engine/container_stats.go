package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/runtime"
)

// Container statistics are read, not collected: no daemon keeps a
// history, so each call samples the cgroups (runtime.ReadStats) itself,
// and the previous sample Docker's clients need for a CPU percentage is
// the one this call read a moment before: with Stream, the last round
// (none before the first round, as Docker's stream); without it, a first
// read statsGap earlier, so that even a single answer carries it (Docker
// takes two samples for stream=false too). OneShot skips that first read.

// statsGap is how far apart the two reads of a non-streamed sample are.
const statsGap = 500 * time.Millisecond

// ContainerStatsOptions tune ContainerStats.
type ContainerStatsOptions struct {
	// Containers are names or IDs, each must exist; none: every running
	// container at each round (with All, every container), so that new
	// ones appear and removed ones go.
	Containers []string
	All        bool
	Stream     bool          // a round every Interval until ctx ends
	OneShot    bool          // not streamed: one read, no previous sample
	Interval   time.Duration // between streamed rounds; 0: one second
	// Send gets each round, one sample per container in the order given
	// (newest first without names); an error from it ends the call with
	// that error.
	Send func([]ContainerStats) error
}

// ContainerStats is one container's sample and the previous one's CPU.
// A container that is not running has only its ID and name (Docker's
// zero sample).
type ContainerStats struct {
	ID, Name string
	Running  bool
	runtime.Stats
	PreCPU  runtime.CPUStats
	PreRead time.Time
}

// ContainerStatsResult is empty: the samples went to Send.
type ContainerStatsResult struct{}

// ContainerStats samples the containers' resource use and sends the
// samples, once or (Stream) every Interval. An unknown container is
// NotFound before anything is sent; a named container removed during a
// stream drops out of the rounds, and the stream ends when none is left.
func (e *Engine) ContainerStats(ctx context.Context, o ContainerStatsOptions) (ContainerStatsResult, error) {
	if o.Send == nil {
		return ContainerStatsResult{}, errors.New("ContainerStats needs Send")
	}
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	for _, ref := range o.Containers {
		if _, err := e.lookupContainer(ref); err != nil {
			return ContainerStatsResult{}, err
		}
	}
	prev := map[string]ContainerStats{}
	if !o.Stream && !o.OneShot {
		if _, err := e.statsRound(o, prev); err != nil {
			return ContainerStatsResult{}, err
		}
		if !sleepCtx(ctx, statsGap) {
			return ContainerStatsResult{}, ctx.Err()
		}
	}
	for {
		round, err := e.statsRound(o, prev)
		if err != nil {
			return ContainerStatsResult{}, err
		}
		if len(o.Containers) > 0 && len(round) == 0 {
			return ContainerStatsResult{}, nil // every one named was removed
		}
		if err := o.Send(round); err != nil {
			return ContainerStatsResult{}, err
		}
		if !o.Stream || !sleepCtx(ctx, o.Interval) {
			return ContainerStatsResult{}, nil
		}
	}
}

// statsRound samples the containers once, each with its previous sample
// from prev, which it then replaces.
func (e *Engine) statsRound(o ContainerStatsOptions, prev map[string]ContainerStats) ([]ContainerStats, error) {
	var list []*Container
	if len(o.Containers) == 0 {
		all, err := e.listContainers()
		if err != nil {
			return nil, err
		}
		for _, c := range all {
			if o.All || c.Running() {
				list = append(list, c)
			}
		}
	}
	for _, ref := range o.Containers {
		c, err := e.lookupContainer(ref)
		if errdefs.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		list = append(list, c)
	}
	round := make([]ContainerStats, 0, len(list))
	for _, c := range list {
		s, err := e.sample(c)
		if err != nil {
			return nil, err
		}
		if p, ok := prev[c.ID]; ok && p.Running && s.Running {
			s.PreCPU, s.PreRead = p.CPU, p.Read
		}
		prev[c.ID] = s
		round = append(round, s)
	}
	return round, nil
}

// sample reads c's statistics; one that stopped meanwhile gets the
// stopped container's zero sample.
func (e *Engine) sample(c *Container) (ContainerStats, error) {
	s := ContainerStats{ID: c.ID, Name: c.Name}
	if !c.Running() || c.State.Pid == 0 {
		return s, nil
	}
	st, err := runtime.ReadStats(e.stateRoot(), c.ID, c.State.Pid, e.paths.Rootless)
	if err != nil {
		// It exited between the read of its record and of its cgroup
		// (which then may be gone, or its init).
		if _, gone := os.Stat(fmt.Sprintf("/proc/%d", c.State.Pid)); errdefs.IsConflict(err) || gone != nil {
			return s, nil
		}
		return s, err
	}
	if c.Config.NetworkMode == NetworkHost {
		st.Networks = nil // the host's interfaces, not the container's (Docker shows none)
	}
	s.Stats, s.Running = st, true
	return s, nil
}

// sleepCtx waits d; false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
