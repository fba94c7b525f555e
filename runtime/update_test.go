package runtime

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// The spec keeps its device rules and gets the new limits; none clears them.
func TestUpdateSpecResources(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.json")
	old := int64(64 << 20)
	spec := specs.Spec{Version: "1.2.0", Linux: &specs.Linux{Resources: &specs.LinuxResources{
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}, Memory: &specs.LinuxMemory{Limit: &old}}}}
	b, _ := json.Marshal(spec)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	lr, err := containerResources(SpecOptions{Resources: Resources{Memory: 128 << 20, NanoCPUs: 5e8, PidsLimit: 50}}, thisHost)
	if err != nil {
		t.Fatal(err)
	}
	read := func() *specs.LinuxResources {
		var got specs.Spec
		b, _ := os.ReadFile(p)
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		return got.Linux.Resources
	}
	if err := updateSpecResources(p, lr); err != nil {
		t.Fatal(err)
	}
	r := read()
	if len(r.Devices) != 1 || *r.Memory.Limit != 128<<20 || *r.CPU.Quota != 50000 || *r.CPU.Period != 100000 || *r.Pids.Limit != 50 {
		t.Errorf("after update: %+v", r)
	}
	if err := updateSpecResources(p, nil); err != nil {
		t.Fatal(err)
	}
	if r := read(); len(r.Devices) != 1 || r.Memory != nil || r.CPU != nil || r.Pids != nil {
		t.Errorf("after an update to none: %+v", r)
	}
}

func TestRestartPolicyFile(t *testing.T) {
	dir := t.TempDir()
	def := RestartPolicy{Name: RestartNo}
	if got := ReadRestartPolicy(dir, def); got != def {
		t.Errorf("no file: %+v", got)
	}
	want := RestartPolicy{Name: RestartOnFailure, MaximumRetryCount: 2}
	if err := WriteRestartPolicy(dir, want); err != nil {
		t.Fatal(err)
	}
	if got := ReadRestartPolicy(dir, def); got != want {
		t.Errorf("after write: %+v", got)
	}
	// No run directory: no monitor to tell, nothing written.
	gone := filepath.Join(dir, "gone")
	if err := WriteRestartPolicy(gone, want); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(gone); !os.IsNotExist(err) {
		t.Errorf("a run directory was made: %v", err)
	}
}
