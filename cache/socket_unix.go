//go:build unix

package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Listen creates the agent's socket at path and listens on it:
//
//   - a missing directory is created 0700 before anything listens; an
//     existing one must belong to this user (or root) and must not be
//     writable by others unless it is sticky, like /tmp;
//   - a lock file next to the socket (path + ".lock") makes a second agent
//     for the same path fail instead of racing the first;
//   - a live socket at path (one that accepts a connection) is never
//     replaced, nor is anything that is not a socket or belongs to someone
//     else; a stale socket (connection refused) is removed;
//   - the socket is created 0600.
//
// Closing the listener removes the socket and releases the lock. Listen
// changes the process umask for the moment it binds, so call it before
// starting goroutines that create files.
func Listen(path string) (net.Listener, error) {
	path, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	if err := prepareDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	lock, err := lockFile(path + ".lock")
	if err != nil {
		return nil, err
	}
	if err := removeStale(path); err != nil {
		lock.Close()
		return nil, err
	}
	old := syscall.Umask(0o177)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	syscall.Umask(old)
	var fi fs.FileInfo
	if err == nil {
		l.SetUnlinkOnClose(false)
		if err = os.Chmod(path, 0o600); err == nil {
			fi, err = os.Lstat(path)
		}
		if err != nil {
			l.Close()
			os.Remove(path)
		}
	}
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("cache: listening on %s: %w", path, err)
	}
	return &lockedListener{UnixListener: l, lock: lock, path: path, file: fi}, nil
}

// lockedListener holds the lock while it listens, and on Close removes
// the socket only if it is still the one it created.
type lockedListener struct {
	*net.UnixListener
	lock *os.File
	path string
	file fs.FileInfo
}

func (l *lockedListener) Close() error {
	err := l.UnixListener.Close()
	if fi, serr := os.Lstat(l.path); serr == nil && os.SameFile(fi, l.file) {
		os.Remove(l.path)
	}
	l.lock.Close()
	return err
}

func owner(fi fs.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}

func prepareDir(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("cache: creating the socket directory: %w", err)
		}
		fi, err = os.Stat(dir)
	}
	if err != nil {
		return fmt.Errorf("cache: socket directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("cache: %s is not a directory", dir)
	}
	if uid := owner(fi); uid != os.Getuid() && uid != 0 {
		return fmt.Errorf("cache: socket directory %s belongs to uid %d, not to you (uid %d)", dir, uid, os.Getuid())
	}
	if fi.Mode().Perm()&0o022 != 0 && fi.Mode()&fs.ModeSticky == 0 {
		return fmt.Errorf("cache: socket directory %s is writable by other users (mode %v), who could replace the socket; use a directory only you can write to", dir, fi.Mode().Perm())
	}
	return nil
}

func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cache: lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("cache: another agent is already serving this socket (%s is locked)", path)
		}
		return nil, fmt.Errorf("cache: locking %s: %w", path, err)
	}
	return f, nil
}

// removeStale removes a dead socket of ours at path and refuses anything
// else that is there.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	if fi.Mode()&fs.ModeSocket == 0 {
		return fmt.Errorf("cache: %s exists and is not a socket; not replacing it", path)
	}
	if uid := owner(fi); uid != os.Getuid() {
		return fmt.Errorf("cache: %s belongs to uid %d; not replacing it", path, uid)
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("cache: an agent is already listening on %s; not replacing it", path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("cache: checking the existing socket %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cache: removing the stale socket: %w", err)
	}
	return nil
}

// OwnerError reports a socket that belongs to another user.
type OwnerError struct {
	Path     string
	UID, You int
}

func (e *OwnerError) Error() string {
	return fmt.Sprintf("cache: %s belongs to uid %d, not to you (uid %d); not using it", e.Path, e.UID, e.You)
}

// Dial connects to the agent at path, within timeout, and sets the
// connection's deadline to timeout from now. It refuses a path that is not
// a socket or belongs to another user, and an agent whose process runs as
// another user: a credential is only ever handed to, or taken from, the
// same uid. A missing socket gives an error matching fs.ErrNotExist.
func Dial(path string, timeout time.Duration) (net.Conn, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	if fi.Mode()&fs.ModeSocket == 0 {
		return nil, fmt.Errorf("cache: %s is not a socket", path)
	}
	if uid := owner(fi); uid != os.Getuid() {
		return nil, &OwnerError{Path: path, UID: uid, You: os.Getuid()}
	}
	d := net.Dialer{Timeout: timeout}
	c, err := d.Dial("unix", path)
	if err != nil {
		return nil, fmt.Errorf("cache: connecting to the agent: %w", err)
	}
	uid, err := PeerUID(c)
	if err == nil && uid != os.Getuid() {
		err = &OwnerError{Path: path, UID: uid, You: os.Getuid()}
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	c.SetDeadline(time.Now().Add(timeout))
	return c, nil
}

// SystemdListener returns the socket systemd passed to this process
// (socket activation: LISTEN_PID is this process, LISTEN_FDS is 1, the
// socket is file descriptor 3), and clears those variables so that child
// processes do not see them. systemd owns the socket file: closing the
// listener does not remove it.
func SystemdListener() (net.Listener, error) {
	pid, fds := os.Getenv("LISTEN_PID"), os.Getenv("LISTEN_FDS")
	os.Unsetenv("LISTEN_PID")
	os.Unsetenv("LISTEN_FDS")
	os.Unsetenv("LISTEN_FDNAMES")
	if pid == "" {
		return nil, errors.New("cache: LISTEN_PID is not set: socket activation needs the agent to be started by a systemd .socket unit")
	}
	if pid != strconv.Itoa(os.Getpid()) {
		return nil, fmt.Errorf("cache: LISTEN_PID is %s, not this process (%d)", pid, os.Getpid())
	}
	if fds != "1" {
		return nil, fmt.Errorf("cache: LISTEN_FDS is %q; the agent takes exactly one socket", fds)
	}
	const fd = 3 // SD_LISTEN_FDS_START
	syscall.CloseOnExec(fd)
	f := os.NewFile(fd, "systemd socket")
	l, err := net.FileListener(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("cache: the socket systemd passed: %w", err)
	}
	if _, ok := l.(*net.UnixListener); !ok {
		l.Close()
		return nil, fmt.Errorf("cache: systemd passed a %s socket, want a unix stream socket", l.Addr().Network())
	}
	return l, nil
}
