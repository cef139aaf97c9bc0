package main

import (
	"bytes"
	"crypto/x509"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gitsign-dev/gitsign/internal/syncbuf"
	"github.com/gitsign-dev/gitsign/internal/testcert"

	"github.com/gitsign-dev/gitsign/cache"
)

// The test binary doubles as the agent: with this variable set it runs
// main instead of the tests.
const asAgent = "GITSIGN_TEST_RUN_AGENT"

func TestMain(m *testing.M) {
	if os.Getenv(asAgent) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func TestVersion(t *testing.T) {
	var out, errs bytes.Buffer
	for _, args := range [][]string{{"--version"}, {"-v"}, {"version"}} {
		out.Reset()
		errs.Reset()
		if code := run(args, &out, &errs); code != 0 || !strings.HasPrefix(out.String(), "version: devel\ncommit: ") ||
			!strings.Contains(out.String(), "\ngo version: go") || errs.Len() != 0 {
			t.Errorf("%s: exit %d, %q %q", args, code, out.String(), errs.String())
		}
	}
	out.Reset()
	if code := run([]string{"version", "--json"}, &out, &errs); code != 0 || !strings.HasPrefix(out.String(), "{") || !strings.Contains(out.String(), `"version": "devel"`) {
		t.Errorf("version --json: exit %d, %q", code, out.String())
	}
	if code := run([]string{"--frobnicate"}, &out, &errs); code != 2 {
		t.Errorf("an unknown flag: exit %d; want 2", code)
	}
	if code := run([]string{"extra"}, &out, &errs); code != 2 {
		t.Errorf("an extra argument: exit %d; want 2", code)
	}
	if code := run([]string{"--systemd-socket-activation", "--socket", "x"}, &out, &errs); code != 1 {
		t.Errorf("--socket with socket activation: exit %d; want 1", code)
	}
}

func agentCmd(t *testing.T, args ...string) (*exec.Cmd, *syncbuf.Buffer) {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), asAgent+"=1")
	logs := &syncbuf.Buffer{}
	cmd.Stderr = logs
	return cmd, logs
}

func shortDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "gsa")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// waitDial connects to the agent once it listens.
func waitDial(t *testing.T, path string) *cache.Client {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := cache.Dial(path, 2*time.Second)
		if err == nil {
			return cache.NewClient(c)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the agent never answered on %s: %v", path, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// testCredential is a credential for alice@example.test, valid for ten
// minutes more.
func testCredential(t *testing.T) *cache.Credential {
	t.Helper()
	cert, key := testcert.New(t, testcert.Options{Serial: 7, Emails: []string{"alice@example.test"}})
	return &cache.Credential{Key: key, Chain: []*x509.Certificate{cert}}
}

var key = cache.Key{Fulcio: "https://fulcio.example", Issuer: "https://issuer.example", ClientID: "sigstore"}

// stop sends SIGTERM and checks for a clean exit.
func stop(t *testing.T, cmd *exec.Cmd, logs *syncbuf.Buffer) {
	t.Helper()
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("the agent exited with %v after SIGTERM:\n%s", err, logs.String())
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("the agent did not stop on SIGTERM:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "msg=stopped") {
		t.Errorf("no clean stop in the log:\n%s", logs.String())
	}
}

func TestAgentServesAndStopsCleanly(t *testing.T) {
	path := filepath.Join(shortDir(t), "run", "cache.sock")
	cmd, logs := agentCmd(t, "--socket", path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cl := waitDial(t, path)
	cred := testCredential(t)
	if err := cl.Put(key, cred); err != nil {
		t.Fatal(err)
	}
	got, err := cl.Get(key)
	if err != nil || !got.Leaf().Equal(cred.Leaf()) {
		t.Fatalf("Get = %v, %v", got, err)
	}
	cl.Close()
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("socket directory: %v, %v; want 0700", fi.Mode().Perm(), err)
	}

	// A second agent for the same socket refuses to start.
	second, secondLogs := agentCmd(t, "--socket", path)
	if err := second.Run(); err == nil || !strings.Contains(secondLogs.String(), "already") {
		t.Errorf("second agent: %v\n%s", err, secondLogs.String())
	}

	stop(t, cmd, logs)
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("the socket survived a clean stop: %v", err)
	}
	if strings.Contains(logs.String(), "PRIVATE") || !strings.Contains(logs.String(), "stored a credential") {
		t.Errorf("agent log:\n%s", logs.String())
	}
}

func TestSystemdSocketActivation(t *testing.T) {
	path := filepath.Join(shortDir(t), "cache.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	f, err := l.File()
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	defer f.Close()
	// As systemd does it: the socket is fd 3 and LISTEN_PID names the
	// agent's own pid, which only the exec'ing shell knows.
	cmd, logs := agentCmd(t)
	cmd.Path = "/bin/sh"
	cmd.Args = []string{"sh", "-c", `LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" --systemd-socket-activation`, os.Args[0]}
	cmd.ExtraFiles = []*os.File{f}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cl := waitDial(t, path)
	if _, err := cl.List(); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	stop(t, cmd, logs)
	if _, err := os.Lstat(path); err != nil {
		t.Errorf("the agent removed systemd's socket: %v", err)
	}

	// Started by hand with the flag: a clear error, no guessing.
	bad, badLogs := agentCmd(t, "--systemd-socket-activation")
	bad.Env = append(bad.Env, "LISTEN_PID=1", "LISTEN_FDS=1")
	if err := bad.Run(); err == nil || !strings.Contains(badLogs.String(), "LISTEN_PID is 1, not this process") {
		t.Errorf("wrong LISTEN_PID: %v\n%s", err, badLogs.String())
	}
}

// TestAgentSocketFromEnvironment: without --socket the agent listens where
// GITSIGN_CREDENTIAL_CACHE says, as gitsign looks for it there, and reads
// no other setting: an invalid one does not keep it from starting.
func TestAgentSocketFromEnvironment(t *testing.T) {
	path := filepath.Join(shortDir(t), "env", "cache.sock")
	cmd, logs := agentCmd(t)
	cmd.Env = append(cmd.Env, "GITSIGN_CREDENTIAL_CACHE="+path, "GITSIGN_TIMEOUT=not-a-duration")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitDial(t, path).Close()
	stop(t, cmd, logs)
}
