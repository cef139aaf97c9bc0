//go:build !linux

package agentcmd

// harden does nothing on this system.
func harden() error { return nil }
