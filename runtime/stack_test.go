package runtime

import (
	"testing"
	"unsafe"
)

// deep uses about 100 bytes of stack per level.
//
//go:noinline
func deep(n int) byte {
	var b [64]byte
	b[n%64] = byte(n)
	if n == 0 {
		return b[0]
	}
	return deep(n-1) + b[n%64]
}

// TestGrowStack: GrowStack moves a fresh goroutine's stack (it grew), and
// 60 KiB of calls afterwards leave it where it is (it grew enough).
func TestGrowStack(t *testing.T) {
	addrs := make(chan [3]uintptr)
	go func() {
		var x byte
		before := uintptr(unsafe.Pointer(&x))
		GrowStack()
		grown := uintptr(unsafe.Pointer(&x))
		deep(600)
		addrs <- [3]uintptr{before, grown, uintptr(unsafe.Pointer(&x))}
	}()
	a := <-addrs
	if a[0] == a[1] {
		t.Fatalf("the stack did not move at GrowStack (%#x): it did not grow", a[0])
	}
	if a[1] != a[2] {
		t.Fatalf("the stack moved again (%#x to %#x) after GrowStack: it did not grow enough", a[1], a[2])
	}
}
