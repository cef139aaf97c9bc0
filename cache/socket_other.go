//go:build !unix

package cache

import (
	"errors"
	"net"
	"time"
)

var errNoAgent = errors.New("cache: the agent needs unix sockets with peer credentials; use gitsign.cache=keyring on this system")

// OwnerError reports a socket that belongs to another user.
type OwnerError struct {
	Path     string
	UID, You int
}

func (e *OwnerError) Error() string { return "cache: " + e.Path + " belongs to another user" }

// Listen is not supported on this system.
func Listen(string) (net.Listener, error) { return nil, errNoAgent }

// Dial is not supported on this system.
func Dial(string, time.Duration) (net.Conn, error) { return nil, errNoAgent }

// SystemdListener is not supported on this system.
func SystemdListener() (net.Listener, error) { return nil, errNoAgent }
