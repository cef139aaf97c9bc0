package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/gitsign-dev/gitsign/internal/buildinfo"
	"github.com/gitsign-dev/gitsign/internal/config"
)

// runOut runs gitsign in a directory with no git config and returns its
// exit code, stdout and stderr.
func runOut(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Chdir(t.TempDir())
	var out, errs bytes.Buffer
	code := run(args, streams{in: strings.NewReader(""), out: &out, err: &errs})
	return code, out.String(), errs.String()
}

func TestVersionExitCodes(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
	}{
		{[]string{"version"}, 0},
		{[]string{"--version"}, 0},
		{[]string{"version", "--json"}, 0},
		{[]string{"version", "extra-arg"}, 2},
		{[]string{"version", "--frobnicate"}, 2},
		{[]string{"completion"}, 2},
		{[]string{"completion", "tcsh"}, 2},
		{[]string{"completion", "zsh", "extra"}, 2},
		{[]string{"completion", "fish"}, 0},
	} {
		code, out, errs := runOut(t, tt.args...)
		if code != tt.code {
			t.Errorf("%q: exit %d; want %d (%q)", tt.args, code, tt.code, errs)
		}
		if code == 0 && (out == "" || errs != "") || code != 0 && (out != "" || strings.Count(errs, "\n") != 1) {
			t.Errorf("%q: stdout %q, stderr %q", tt.args, out, errs)
		}
	}
}

func TestVersionJSON(t *testing.T) {
	const token = "eyJhbGciOiJSUzI1NiJ9.bm90LWZvci15b3VyLWV5ZXM.c2ln"
	t.Setenv("SIGSTORE_ID_TOKEN", token)
	t.Setenv("GITSIGN_REKOR_URL", "https://rekor.example")
	code, out, _ := runOut(t, "version", "--json")
	if code != 0 || strings.Contains(out, "bm90LWZvci15b3VyLWV5ZXM") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	var v struct {
		buildinfo.Info
		Settings []config.Setting `json:"settings"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	checkAgainstSchema(t, "version", out)
	if want := buildinfo.Get(); v.Info != want {
		t.Errorf("build facts %+v; want %+v", v.Info, want)
	}
	found := 0
	for _, s := range v.Settings {
		switch s.Name {
		case "SIGSTORE_ID_TOKEN":
			found++
			if s.Value != config.Hidden || s.Origin != config.OriginEnv {
				t.Errorf("token: %+v", s)
			}
		case "gitsign.rekor":
			found++
			if s.Value != "https://rekor.example" || s.Origin != config.OriginEnv || s.From != "GITSIGN_REKOR_URL" {
				t.Errorf("rekor: %+v", s)
			}
		}
	}
	if found != 2 {
		t.Errorf("settings: %+v", v.Settings)
	}
}
