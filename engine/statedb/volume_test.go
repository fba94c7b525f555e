package statedb

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/containerd/errdefs"
)

func TestVolumeRows(t *testing.T) {
	d := open(t)
	ctx := context.Background()
	v := Volume{Name: "data", Driver: "local", Created: time.Now(), Config: []byte(`{"labels":{"a":"b"}}`)}
	if err := d.CreateVolume(ctx, v); err != nil {
		t.Fatal(err)
	}
	if err := d.CreateVolume(ctx, v); !errdefs.IsConflict(err) {
		t.Fatalf("second create: %v, want a conflict", err)
	}
	got, err := d.Volume(ctx, "data")
	if err != nil || got.Driver != "local" || string(got.Config) != string(v.Config) || !got.Created.Equal(v.Created) {
		t.Fatalf("read back %+v %v", got, err)
	}
	if _, err := d.Volume(ctx, "nope"); !errdefs.IsNotFound(err) {
		t.Fatalf("missing volume: %v", err)
	}
	if err := d.DeleteVolume(ctx, "data"); err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteVolume(ctx, "data"); !errdefs.IsNotFound(err) {
		t.Fatalf("second delete: %v", err)
	}
	if all, err := d.Volumes(ctx); err != nil || len(all) != 0 {
		t.Fatalf("after delete: %v %v", all, err)
	}
}

// Processes racing to create a volume on first use: one creates it, all
// get the same row.
func TestEnsureVolumeConcurrent(t *testing.T) {
	d := open(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := 0
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := Open(context.Background(), d.Path())
			if err != nil {
				t.Error(err)
				return
			}
			defer h.Close()
			v, mine, err := h.EnsureVolume(context.Background(), Volume{Name: "shared", Driver: "local", Created: time.Now(), Config: []byte(`{}`)})
			if err != nil || v.Name != "shared" {
				t.Errorf("ensure: %+v %v", v, err)
			}
			mu.Lock()
			if mine {
				created++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if created != 1 {
		t.Fatalf("%d callers created the volume, want 1", created)
	}
}
