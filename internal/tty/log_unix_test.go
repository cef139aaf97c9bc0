//go:build unix

package tty

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// tryLog runs openLog on path and returns the file (nil if refused) and
// the warning printed. An open that blocks (a fifo with no reader) fails.
func tryLog(t *testing.T, path string) (*os.File, string) {
	t.Helper()
	type result struct {
		f    *os.File
		warn string
	}
	done := make(chan result, 1)
	go func() {
		var warn bytes.Buffer
		f := openLog(path, &warn)
		done <- result{f, warn.String()}
	}()
	select {
	case r := <-done:
		if r.f != nil {
			t.Cleanup(func() { r.f.Close() })
		}
		return r.f, r.warn
	case <-time.After(5 * time.Second):
		t.Fatalf("opening the log %s blocked", path)
		return nil, ""
	}
}

func writeFile(t *testing.T, path, content string, perm fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // past the umask
		t.Fatal(err)
	}
}

func wantContent(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s holds %q, want %q", path, got, want)
	}
}

func wantRefused(t *testing.T, path, reason string) {
	t.Helper()
	f, warn := tryLog(t, path)
	if f != nil {
		t.Errorf("log %s was opened", path)
	}
	if want := "gitsign: warning: cannot write log " + path + ": " + reason + "\n"; warn != want {
		t.Errorf("warning %q, want %q", warn, want)
	}
}

func TestLogRefusesSymlinkToFile(t *testing.T) {
	dir := t.TempDir()
	target, link := filepath.Join(dir, "target"), filepath.Join(dir, "gitsign.log")
	writeFile(t, target, "secret\n", 0o600)
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, link, "it is a symbolic link")
	wantContent(t, target, "secret\n")
}

func TestLogRefusesDanglingSymlink(t *testing.T) {
	dir := t.TempDir()
	target, link := filepath.Join(dir, "elsewhere"), filepath.Join(dir, "gitsign.log")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, link, "it is a symbolic link")
	if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the link's target was created: %v", err)
	}
}

func TestLogRefusesAnotherUsersFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gitsign.log")
	writeFile(t, path, "theirs\n", 0o600)
	if err := os.Chown(path, 65534, -1); err != nil {
		t.Skipf("cannot give a file to uid 65534: %v", err)
	}
	if os.Geteuid() == 65534 {
		t.Skip("running as uid 65534")
	}
	wantRefused(t, path, "owned by uid 65534, not you")
	wantContent(t, path, "theirs\n")
}

func TestLogRefusesWritableByOthers(t *testing.T) {
	for _, tc := range []struct {
		perm   fs.FileMode
		reason string
	}{
		{0o666, "writable by group and others (mode 0666)"},
		{0o620, "writable by group (mode 0620)"},
		{0o602, "writable by others (mode 0602)"},
	} {
		path := filepath.Join(t.TempDir(), "gitsign.log")
		writeFile(t, path, "old\n", tc.perm)
		wantRefused(t, path, tc.reason)
		wantContent(t, path, "old\n")
	}
}

func TestLogRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	t.Run("directory", func(t *testing.T) {
		wantRefused(t, dir, "it is a directory")
	})
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("fifo without reader", func(t *testing.T) {
		wantRefused(t, fifo, "it is a named pipe")
	})
	t.Run("fifo with reader", func(t *testing.T) {
		r, err := os.OpenFile(fifo, os.O_RDONLY|unix.O_NONBLOCK, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		wantRefused(t, fifo, "it is a named pipe")
	})
	t.Run("device", func(t *testing.T) {
		if _, err := os.Stat(os.DevNull); err != nil {
			t.Skip(err)
		}
		wantRefused(t, os.DevNull, "it is a device")
	})
}

func TestLogAppendsToOwnFile(t *testing.T) {
	for _, perm := range []fs.FileMode{0o600, 0o644} {
		path := filepath.Join(t.TempDir(), "gitsign.log")
		writeFile(t, path, "old\n", perm)
		f, warn := tryLog(t, path)
		if f == nil || warn != "" {
			t.Fatalf("mode %04o: log refused: %q", perm, warn)
		}
		if _, err := f.WriteString("new\n"); err != nil {
			t.Fatal(err)
		}
		wantContent(t, path, "old\nnew\n")
	}
}

func TestLogCreatesPrivateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gitsign.log")
	f, warn := tryLog(t, path)
	if f == nil || warn != "" {
		t.Fatalf("log refused: %q", warn)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Errorf("new log has mode %s, want -rw-------", fi.Mode())
	}
	if _, err := f.WriteString("line\n"); err != nil {
		t.Fatal(err)
	}
	wantContent(t, path, "line\n")
}

// Open itself logs to a usable path and warns on standard error about a
// refused one.
func TestOpenLog(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "gitsign.log")
	m := Open(good)
	m.term, m.errs = &bytes.Buffer{}, &bytes.Buffer{}
	m.log.(*stamped).now = func() time.Time { return time.Date(2026, 3, 1, 9, 30, 15, 42e6, time.UTC) }
	m.Infof("signed %d", 1)
	m.Close()
	const line = "2026-03-01T09:30:15.042Z gitsign: signed 1\n"
	wantContent(t, good, line)

	link := filepath.Join(dir, "link.log")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	stderr, err := os.CreateTemp(dir, "stderr")
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = stderr
	m = Open(link)
	os.Stderr = saved
	m.Close()
	stderr.Close()
	if m.log != nil {
		t.Error("Open used a symbolic link as the log")
	}
	wantContent(t, stderr.Name(), "gitsign: warning: cannot write log "+link+": it is a symbolic link\n")
	wantContent(t, good, line)
}
