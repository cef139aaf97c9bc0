//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gitsign-dev/gitsign/internal/syncbuf"
)

// secretService starts a private D-Bus session bus (dbus-run-session) with
// gnome-keyring-daemon serving the Secret Service on it, its login
// keyring created and unlocked, and returns the variables a client needs.
// Both are stopped when the test ends. hack/install-test-deps installs
// them.
func secretService(t *testing.T) []string {
	t.Helper()
	for _, bin := range []string{"dbus-run-session", "dbus-send", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("%s is not installed: run hack/install-test-deps (make test does)", bin)
		}
	}
	dir := cacheTempDir(t, 0o700)
	runtime := filepath.Join(dir, "run")
	os.Mkdir(runtime, 0o700)
	addrFile := filepath.Join(dir, "bus")

	// The bus lives as long as its child, a sleep; both die with the
	// process group at clean-up.
	bus := exec.Command("dbus-run-session", "--", "sh", "-c", `echo "$DBUS_SESSION_BUS_ADDRESS" > "$0"; exec sleep 600`, addrFile)
	bus.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	bus.Env = append(os.Environ(), "HOME="+dir, "XDG_RUNTIME_DIR="+runtime)
	if err := bus.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-bus.Process.Pid, syscall.SIGTERM)
		bus.Wait()
	})
	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == ""; {
		b, _ := os.ReadFile(addrFile)
		addr = strings.TrimSpace(string(b))
		if addr == "" {
			if time.Now().After(deadline) {
				t.Fatal("dbus-run-session never started a bus")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	env := []string{"DBUS_SESSION_BUS_ADDRESS=" + addr, "XDG_RUNTIME_DIR=" + runtime}

	// --unlock reads the login keyring's password from stdin and creates
	// the keyring if there is none: no prompt is ever needed.
	gk := exec.Command("gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets")
	gk.Env = append(os.Environ(), append(env, "HOME="+dir)...)
	gk.Stdin = strings.NewReader("e2e-keyring-password")
	var gkLog syncbuf.Buffer
	gk.Stdout, gk.Stderr = &gkLog, &gkLog
	if err := gk.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		gk.Process.Signal(syscall.SIGTERM)
		gk.Wait()
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		q := exec.Command("dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
			"org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.secrets")
		q.Env = append(os.Environ(), env...)
		if out, err := q.Output(); err == nil && strings.Contains(string(out), "boolean true") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gnome-keyring-daemon never served the Secret Service:\n%s", gkLog.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return env
}

// TestCacheKeyring: gitsign.cache=keyring against a real Secret Service.
// The first signature logs in and stores the credential in the keyring;
// later gitsign processes, with no agent and no token source, sign with
// it; gitsign cache status shows it without the key.
func TestCacheKeyring(t *testing.T) {
	env := secretService(t)
	home := cacheTempDir(t, 0o700)
	r := newRepo(t, append(env, "GITSIGN_CACHE=keyring", "GITSIGN_TOKEN_PROVIDER=envvar",
		"XDG_CACHE_HOME="+filepath.Join(home, "cache"))...)

	r.withEnv("SIGSTORE_ID_TOKEN=" + token(t)).commit("the one login")
	for i := range 4 {
		r.commit("from the keyring " + string(rune('a'+i)))
	}
	sigs := r.signatures(5)
	for _, s := range sigs {
		if serial(s) != serial(sigs[4]) {
			t.Errorf("commit %s used certificate %s; want the login's %s", s.id, serial(s), serial(sigs[4]))
		}
	}
	if log := r.readLog(); strings.Contains(log, "warning") {
		t.Errorf("warnings with a working keyring:\n%s", log)
	}

	// The item is in the Secret Service, under service "gitsign".
	if n := secretItems(t, env); n != 1 {
		t.Errorf("the Secret Service holds %d gitsign items; want 1", n)
	}

	out, errOut, err := r.run(gitsignBin, "cache", "status")
	if err != nil || !strings.Contains(out, "cache: the OS keyring") || !strings.Contains(out, "alice@example.test") ||
		!strings.Contains(out, sigs[0].cert.SerialNumber.String()) {
		t.Errorf("gitsign cache status: %v\n%s%s", err, out, errOut)
	}
	if strings.Contains(out+errOut, "PRIVATE KEY") || strings.Contains(out+errOut, "gitsign-credential-v1") {
		t.Errorf("gitsign cache status shows the key:\n%s", out)
	}

	// Cleared, the keyring holds nothing and the next signature would
	// need a login (there is no token source).
	if out, _, err := r.run(gitsignBin, "cache", "clear"); err != nil || !strings.Contains(out, "cleared the OS keyring") {
		t.Fatalf("gitsign cache clear: %v %s", err, out)
	}
	if out, _, _ := r.run(gitsignBin, "cache", "status"); !strings.Contains(out, "no credentials cached") {
		t.Errorf("after clear:\n%s", out)
	}
	if n := secretItems(t, env); n != 0 {
		t.Errorf("the Secret Service holds %d gitsign items after clear; want 0", n)
	}
}

// secretItems counts the Secret Service items whose service attribute is
// gitsign, asking the service directly over D-Bus.
func secretItems(t *testing.T, env []string) int {
	t.Helper()
	q := exec.Command("dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.secrets", "/org/freedesktop/secrets",
		"org.freedesktop.Secret.Service.SearchItems", "dict:string:string:service,gitsign")
	q.Env = append(os.Environ(), env...)
	out, err := q.CombinedOutput()
	if err != nil {
		t.Fatalf("SearchItems: %v\n%s", err, out)
	}
	return strings.Count(string(out), "object path \"/org/freedesktop/secrets/collection/")
}

// TestCacheKeyringMissing: gitsign.cache=keyring where there is no
// keyring (no session bus): each commit logs in and is signed, and the
// note that there is no keyring is shown once, not on every commit.
func TestCacheKeyringMissing(t *testing.T) {
	home := cacheTempDir(t, 0o700)
	runtime := filepath.Join(home, "run")
	os.Mkdir(runtime, 0o700)
	r := newRepo(t, "GITSIGN_CACHE=keyring", "SIGSTORE_ID_TOKEN="+token(t),
		"DBUS_SESSION_BUS_ADDRESS=", "XDG_RUNTIME_DIR="+runtime, "XDG_CACHE_HOME="+filepath.Join(home, "cache"))
	start := time.Now()
	r.commit("first")
	r.commit("second")
	r.commit("third")
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("three commits without a keyring took %s", d)
	}
	sigs := r.signatures(3)
	if serial(sigs[0]) == serial(sigs[1]) || serial(sigs[1]) == serial(sigs[2]) {
		t.Error("commits shared a certificate without any cache")
	}
	log := r.readLog()
	if n := strings.Count(log, "the OS keyring is not available"); n != 1 {
		t.Errorf("the no-keyring note appeared %d times in three commits; want once:\n%s", n, log)
	}
	if strings.Count(log, "gitsign: warning: ") != 1 {
		t.Errorf("want exactly one warning:\n%s", log)
	}
}
