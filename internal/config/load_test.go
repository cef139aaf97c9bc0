package config

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/gitsign-dev/gitsign/gitsign"
)

// hermetic isolates Load from the machine's git config and from any
// GITSIGN_*, SIGSTORE_* or GIT_* variables of the caller.
func hermetic(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not found:", err)
	}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "GITSIGN_") || strings.HasPrefix(name, "SIGSTORE_") || strings.HasPrefix(name, "GIT_") {
			t.Setenv(name, "") // restored after the test
			os.Unsetenv(name)
		}
	}
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
}

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestLoadInRepository(t *testing.T) {
	hermetic(t)
	dir := t.TempDir()
	git(t, dir, "init", "-q")
	git(t, dir, "config", "gitsign.rekorMode", "online")
	git(t, dir, "config", "user.name", "Alice\nLiddell")
	git(t, dir, "config", "--add", "gitsign.certificateIdentity", "alice@example.com")
	git(t, dir, "config", "--add", "gitsign.certificateIdentity", "bob@example.com")
	// As `git -c gitsign.rekorVersion=2 ...` passes it down to its children.
	t.Setenv("GIT_CONFIG_COUNT", "1")
	t.Setenv("GIT_CONFIG_KEY_0", "gitsign.rekorVersion")
	t.Setenv("GIT_CONFIG_VALUE_0", "2")
	t.Setenv("GITSIGN_TIMEOUT", "5")
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(sub)

	c, err := Load(t.Context())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Default()
	want.RekorMode = gitsign.Online
	want.RekorVersion = 2
	want.Rekor = "https://log2025-1.rekor.sigstore.dev"
	want.CommitterName = "Alice\nLiddell"
	want.CertificateIdentity = []string{"alice@example.com", "bob@example.com"}
	want.Timeout = 5e9
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Load = %+v\nwant %+v", c, want)
	}
}

func TestLoadInvalidValue(t *testing.T) {
	hermetic(t)
	dir := t.TempDir()
	git(t, dir, "init", "-q")
	git(t, dir, "config", "gitsign.rekorVersion", "3")
	t.Chdir(dir)
	_, err := Load(t.Context())
	var e *Error
	if !errors.As(err, &e) || e.Key != "gitsign.rekorVersion" || e.Value != "3" {
		t.Fatalf("Load error = %v; want *Error for gitsign.rekorVersion", err)
	}
}

func TestLoadOutsideRepository(t *testing.T) {
	hermetic(t)
	dir := t.TempDir()
	t.Setenv("GIT_CEILING_DIRECTORIES", filepath.Dir(dir))
	t.Chdir(dir)
	c, err := Load(t.Context())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("Load = %+v; want Default()", c)
	}
}

func TestLoadCanceled(t *testing.T) {
	hermetic(t)
	t.Chdir(t.TempDir())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := Load(ctx)
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "reading git config: ") {
		t.Fatalf("Load error = %v; want reading git config: context canceled", err)
	}
}

// TestLoadGitFailures runs Load against a fake git that fails in
// different ways.
func TestLoadGitFailures(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the fake git is a shell script")
	}
	tests := []struct {
		name    string
		script  string
		wantErr string // "" for an empty config
	}{
		{"exit 1, silent", "exit 1", ""},
		{"exit 128, no repository", "echo 'fatal: not a git repository (or any of the parent directories): .git' >&2; exit 128", ""},
		{"exit 128, bad config", "echo 'fatal: bad config line 1 in file /x' >&2; exit 128",
			"reading git config: exit status 128: fatal: bad config line 1 in file /x"},
		{"exit 1 with output", "printf 'gitsign.rekormode\\nonline\\0'; exit 1", "reading git config: exit status 1"},
		{"exit 2", "exit 2", "reading git config: exit status 2"},
		{"killed", "kill -9 $$", "reading git config: signal: killed"},
		{"success", "printf 'gitsign.rekormode\\nonline\\0'", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hermetic(t)
			bin := t.TempDir()
			script := "#!/bin/sh\n" + tt.script + "\n"
			if err := os.WriteFile(filepath.Join(bin, "git"), []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			t.Setenv("PATH", bin)
			c, err := Load(t.Context())
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Load error = %v; want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := Default()
			if tt.name == "success" {
				want.RekorMode = gitsign.Online
			}
			if !reflect.DeepEqual(c, want) {
				t.Errorf("Load = %+v; want %+v", c, want)
			}
		})
	}
}

func TestLoadWithoutGit(t *testing.T) {
	hermetic(t)
	t.Setenv("PATH", t.TempDir())
	_, err := Load(t.Context())
	if err == nil || !strings.HasPrefix(err.Error(), "reading git config: ") {
		t.Fatalf("Load error = %v; want reading git config: ...", err)
	}
}
