//go:build !unix

package cache

import (
	"net"
	"time"
)

// OwnerError reports a socket that belongs to another user.
type OwnerError struct {
	Path     string
	UID, You int
}

func (e *OwnerError) Error() string { return "cache: " + e.Path + " belongs to another user" }

// Listen is not supported on this system.
func Listen(string) (net.Listener, error) { return nil, ErrAgentUnsupported }

// Dial is not supported on this system.
func Dial(string, time.Duration) (net.Conn, error) { return nil, ErrAgentUnsupported }

// SystemdListener is not supported on this system.
func SystemdListener() (net.Listener, error) { return nil, ErrAgentUnsupported }
