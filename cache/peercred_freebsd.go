package cache

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// xucredVersion is FreeBSD's XUCRED_VERSION (sys/ucred.h), the layout of
// struct xucred that golang.org/x/sys/unix.Xucred mirrors.
const xucredVersion = 0

// socketPeerUID reads the peer's uid with LOCAL_PEERCRED: for an accepted
// connection, the credentials the client had when it called connect(2); for
// a connecting socket, those the server had when it called listen(2).
func socketPeerUID(fd int) (int, error) {
	cred, err := unix.GetsockoptXucred(fd, unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	if err != nil {
		return -1, err
	}
	if cred.Version != xucredVersion {
		return -1, fmt.Errorf("cache: peer credentials: unknown xucred version %d", cred.Version)
	}
	return int(cred.Uid), nil
}
