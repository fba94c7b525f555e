//go:build !skiff_local

package imagestore

// CanTransfer says whether this build moves images through registries and
// archives itself (see transfer_local.go).
const CanTransfer = true
