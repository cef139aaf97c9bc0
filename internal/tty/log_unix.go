//go:build unix

package tty

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// openNoFollow opens path for appending, creating it 0600. O_NOFOLLOW
// makes the open fail when the last component is a symbolic link (and so
// creates nothing at a link's target); O_NONBLOCK keeps a named pipe with
// no reader from blocking the open, and is cleared again so that the file
// is an ordinary blocking one.
func openNoFollow(path string) (*os.File, error) {
	const flags = syscall.O_WRONLY | syscall.O_CREAT | syscall.O_APPEND | syscall.O_NOFOLLOW | syscall.O_NONBLOCK | syscall.O_CLOEXEC
	var fd int
	var err error
	for {
		if fd, err = syscall.Open(path, flags, 0o600); err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	if err := syscall.SetNonblock(fd, false); err != nil {
		syscall.Close(fd)
		return nil, &os.PathError{Op: "fcntl", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// ownerProblem refuses a regular file owned by another user or writable
// by group or others.
func ownerProblem(fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("cannot tell who owns it")
	}
	if uid := int(st.Uid); uid != os.Geteuid() {
		return fmt.Errorf("owned by uid %d, not you", uid)
	}
	switch perm := fi.Mode().Perm(); {
	case perm&0o022 == 0o022:
		return fmt.Errorf("writable by group and others (mode %04o)", perm)
	case perm&0o020 != 0:
		return fmt.Errorf("writable by group (mode %04o)", perm)
	case perm&0o002 != 0:
		return fmt.Errorf("writable by others (mode %04o)", perm)
	}
	return nil
}
