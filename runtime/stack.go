package runtime

// stackPadIndex is read at run time, so that the compiler keeps GrowStack's
// frame.
var stackPadIndex int

// GrowStack grows the calling goroutine's stack to 128 KiB at once, for a
// process's main goroutine at its start. A goroutine's stack starts at a
// few KiB and doubles when a call needs more, and each doubling copies the
// stack and walks every frame on it to adjust their pointers: the deeper
// the calls when it happens, the dearer. A run's CLI grew its main stack
// five times on the way to 64 KiB, the monitor as often, the container's
// init to 128 KiB in libcontainer's deep calls. Grown here, from main's
// shallow stack, it is copied once; without a garbage collection in these
// short processes it never shrinks back.
//
//go:noinline
func GrowStack() byte {
	var pad [96 << 10]byte
	pad[stackPadIndex] = 1
	return pad[stackPadIndex]
}
