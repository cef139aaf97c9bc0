package buildinfo

import (
	"bytes"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func withVars(t *testing.T, v, c, d string) {
	old := [3]string{Version, Commit, Date}
	Version, Commit, Date = v, c, d
	t.Cleanup(func() { Version, Commit, Date = old[0], old[1], old[2] })
}

var recorded = &debug.BuildInfo{
	Main: debug.Module{Path: "github.com/gitsign-dev/gitsign", Version: "v0.9.0"},
	Deps: []*debug.Module{
		{Path: "github.com/spf13/cobra", Version: "v1.10.2"},
		{Path: "github.com/sigstore/sigstore-go", Version: "v1.3.0"},
	},
	Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "deadbeef"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}},
}

func TestLinkerVariablesWin(t *testing.T) {
	withVars(t, "v1.2.3", "abc", "2026-11-29T00:00:00Z")
	i := get(recorded)
	if i.Version != "v1.2.3" || i.Commit != "abc" || i.Date != "2026-11-29T00:00:00Z" {
		t.Errorf("got %+v", i)
	}
	if i.SigstoreGoVersion != "v1.3.0" || i.GoVersion != runtime.Version() || i.OS != runtime.GOOS || i.Arch != runtime.GOARCH {
		t.Errorf("got %+v", i)
	}
}

func TestFallbacks(t *testing.T) {
	withVars(t, "", "", "")
	i := get(recorded)
	if i.Version != "v0.9.0" || i.Commit != "deadbeef" || i.Date != "2026-01-02T03:04:05Z" {
		t.Errorf("from build info: %+v", i)
	}
	i = get(&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}})
	if i.Version != "devel" || i.Commit != "" || i.Date != "" || i.SigstoreGoVersion != "" {
		t.Errorf("a development build: %+v", i)
	}
	if i := get(nil); i.Version != "devel" {
		t.Errorf("no build info: %+v", i)
	}
	replaced := &debug.BuildInfo{Deps: []*debug.Module{{Path: sigstoreGo, Version: "v1.3.0", Replace: &debug.Module{Path: "../sigstore-go"}}}}
	if i := get(replaced); i.SigstoreGoVersion != "v1.3.0" {
		t.Errorf("a local replacement: %+v", i)
	}
}

func TestWriteText(t *testing.T) {
	var b bytes.Buffer
	i := Info{Version: "v1.2.3", GoVersion: "go1.26.8", OS: "linux", Arch: "amd64"}
	if err := i.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := "version: v1.2.3\ncommit: unknown\nbuild date: unknown\ngo version: go1.26.8\nsigstore-go version: none\nplatform: linux/amd64\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

// TestGet: Get works in any binary, this test's included, which does not
// link sigstore-go.
func TestGet(t *testing.T) {
	i := Get()
	if i.Version == "" || !strings.HasPrefix(i.GoVersion, "go") {
		t.Errorf("Get() = %+v", i)
	}
}
