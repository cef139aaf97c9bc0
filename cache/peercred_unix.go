//go:build linux || darwin || freebsd

package cache

import (
	"errors"
	"net"
)

// PeerUID returns the uid of the process at the other end of a unix
// socket connection, as the kernel recorded it.
func PeerUID(c net.Conn) (int, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return -1, errors.New("cache: peer credentials: not a unix socket")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return -1, err
	}
	uid, credErr := -1, error(nil)
	if err := raw.Control(func(fd uintptr) { uid, credErr = socketPeerUID(int(fd)) }); err != nil {
		return -1, err
	}
	if credErr != nil {
		return -1, credErr
	}
	return uid, nil
}
