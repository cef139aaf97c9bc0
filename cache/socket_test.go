//go:build unix

package cache

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestListenPermissions(t *testing.T) {
	dir := filepath.Join(shortTempDir(t), "a", "b")
	path := filepath.Join(dir, "cache.sock")
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("directory %s: mode %v, %v; want 0700", d, fi.Mode().Perm(), err)
		}
	}
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&fs.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket: mode %v, %v; want a socket, 0600", fi.Mode(), err)
	}
	if fi, err := os.Lstat(path + ".lock"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("lock file: %v, %v; want 0600", fi.Mode(), err)
	}
}

func TestListenNeverReplacesALiveSocket(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "cache.sock")
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// A second agent on the same path: the lock stops it.
	if l2, err := Listen(path); err == nil || !strings.Contains(err.Error(), "already serving") {
		if l2 != nil {
			l2.Close()
		}
		t.Fatalf("second Listen = %v; want 'already serving'", err)
	}
	// Another program listening there without our lock (an agent started
	// by systemd, say): found alive by connecting, and left alone.
	os.Remove(path)
	other, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	l.Close() // releases the lock; the path now belongs to other
	if l3, err := Listen(path); err == nil || !strings.Contains(err.Error(), "already listening") {
		if l3 != nil {
			l3.Close()
		}
		t.Fatalf("Listen over a live socket = %v; want 'already listening'", err)
	}
	if c, err := net.Dial("unix", path); err != nil {
		t.Errorf("the live socket was disturbed: %v", err)
	} else {
		c.Close()
	}
}

func TestListenRemovesAStaleSocket(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "cache.sock")
	// A socket file nobody listens on, as a killed agent leaves it.
	dead, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	dead.(*net.UnixListener).SetUnlinkOnClose(false)
	dead.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Fatal("setup: the stale socket is missing")
	}
	l, err := Listen(path)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	defer l.Close()
	c, err := Dial(path, time.Second)
	if err != nil {
		t.Fatalf("Dial the new socket: %v", err)
	}
	c.Close()
}

func TestListenRefuses(t *testing.T) {
	base := shortTempDir(t)
	notSocket := filepath.Join(base, "file")
	os.WriteFile(notSocket, []byte("keep me"), 0o600)
	if _, err := Listen(notSocket); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("Listen over a regular file = %v; want 'not a socket'", err)
	}
	if b, _ := os.ReadFile(notSocket); string(b) != "keep me" {
		t.Error("the regular file was touched")
	}

	open := filepath.Join(base, "open")
	os.Mkdir(open, 0o777)
	os.Chmod(open, 0o777)
	if _, err := Listen(filepath.Join(open, "s.sock")); err == nil || !strings.Contains(err.Error(), "writable by other users") {
		t.Errorf("Listen in a world-writable directory = %v; want refusal", err)
	}
	sticky := filepath.Join(base, "sticky")
	os.Mkdir(sticky, 0o777)
	os.Chmod(sticky, 0o777|os.ModeSticky)
	if l, err := Listen(filepath.Join(sticky, "s.sock")); err != nil {
		t.Errorf("Listen in a sticky directory like /tmp: %v", err)
	} else {
		l.Close()
	}
}

// nobody returns the uid of user nobody, for tests that need another
// owner; they run only as root.
func nobody(t *testing.T) int {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("needs root to create files owned by another user")
	}
	return 65534
}

func TestOtherUsersFilesAreRefused(t *testing.T) {
	uid := nobody(t)
	base := shortTempDir(t)

	theirs := filepath.Join(base, "theirs")
	os.Mkdir(theirs, 0o700)
	os.Chown(theirs, uid, uid)
	if _, err := Listen(filepath.Join(theirs, "s.sock")); err == nil || !strings.Contains(err.Error(), "belongs to uid 65534") {
		t.Errorf("Listen in another user's directory = %v; want refusal", err)
	}

	// A socket someone else owns: the agent does not replace it and the
	// client does not use it, even though (as root) it could connect.
	path := filepath.Join(base, "s.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	os.Chown(path, uid, uid)
	c, err := Dial(path, time.Second)
	var oe *OwnerError
	if !errors.As(err, &oe) || oe.UID != uid {
		if c != nil {
			c.Close()
		}
		t.Errorf("Dial of another user's socket = %v; want *OwnerError", err)
	}
	if _, err := Listen(path); err == nil || !strings.Contains(err.Error(), "belongs to uid") {
		t.Errorf("Listen over another user's socket = %v; want refusal", err)
	}
}

func TestDialErrors(t *testing.T) {
	base := shortTempDir(t)
	if _, err := Dial(filepath.Join(base, "missing.sock"), time.Second); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Dial of a missing socket = %v; want fs.ErrNotExist", err)
	}
	file := filepath.Join(base, "file")
	os.WriteFile(file, nil, 0o600)
	if _, err := Dial(file, time.Second); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("Dial of a regular file = %v; want 'not a socket'", err)
	}
	stale := filepath.Join(base, "stale.sock")
	dead, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	dead.(*net.UnixListener).SetUnlinkOnClose(false)
	dead.Close()
	start := time.Now()
	if _, err := Dial(stale, time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("Dial of a stale socket = %v; want connection refused", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("a stale socket took %s to fail", d)
	}
}
