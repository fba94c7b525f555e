package engine

import (
	"math"
	"testing"
)

// TestRlimitValue: inspect prints RLIM_INFINITY as Docker's -1 (as
// uint64 it would be 18446744073709551615, which a moby client cannot
// decode into container.InspectResponse).
func TestRlimitValue(t *testing.T) {
	for in, want := range map[uint64]int64{0: 0, 1024: 1024, math.MaxInt64: math.MaxInt64, math.MaxUint64: -1} {
		if got := rlimitValue(in); got != want {
			t.Errorf("rlimitValue(%d) = %d, want %d", in, got, want)
		}
	}
}
