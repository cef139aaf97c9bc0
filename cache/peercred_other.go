//go:build !linux && !darwin && !freebsd

package cache

import (
	"errors"
	"net"
)

// PeerUID would return the uid of the process at the other end of a unix
// socket connection; this build does not know how to ask the kernel, so
// the agent refuses every connection (use the keyring instead).
func PeerUID(net.Conn) (int, error) {
	return -1, errors.New("cache: peer credentials are not supported on this system")
}
