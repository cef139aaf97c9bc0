package setup

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gitsign-dev/gitsign/contrib"
)

// TestServiceUnitForPackages: the unit setup writes for the agent in
// /usr/bin is the shipped one with only ExecStart changed, as the
// packages' unit is (.goreleaser.yml's sed).
func TestServiceUnitForPackages(t *testing.T) {
	shipped, err := contrib.Files.ReadFile(contrib.SystemdService)
	if err != nil {
		t.Fatal(err)
	}
	got, err := systemdService("/usr/bin/gitsign-credential-cache")
	if err != nil {
		t.Fatal(err)
	}
	const from = "ExecStart=%h/.local/bin/gitsign-credential-cache --systemd-socket-activation\n"
	const to = "ExecStart=/usr/bin/gitsign-credential-cache --systemd-socket-activation\n"
	if !bytes.Contains(shipped, []byte(from)) {
		t.Fatalf("contrib/systemd's service no longer has %q: update this test, .goreleaser.yml's sed and hack/release-test", from)
	}
	if want := bytes.Replace(shipped, []byte(from), []byte(to), 1); !bytes.Equal(got, want) {
		t.Errorf("service unit:\n%s\nwant:\n%s", got, want)
	}
}

func TestSystemdWord(t *testing.T) {
	for in, want := range map[string]string{
		"/home/a/.local/bin/gitsign-credential-cache": "/home/a/.local/bin/gitsign-credential-cache",
		"/home/a b/bin/x": `"/home/a b/bin/x"`,
		"/opt/100%/x":     "/opt/100%%/x",
		"/opt/$HOME/x":    "/opt/$$HOME/x",
		`/opt/a"b\c d/x`:  `"/opt/a\"b\\c d/x"`,
		"/opt/it's/x":     `"/opt/it's/x"`,
	} {
		if got := systemdWord(in); got != want {
			t.Errorf("systemdWord(%q) = %s, want %s", in, got, want)
		}
	}
	if _, err := systemdService("/opt/a\nb/x"); err == nil {
		t.Error("a path with a newline was written into a unit")
	}
}

// TestLaunchdPlist: the path is filled in, escaped, and the plist stays
// well-formed XML with the agent as its one program argument.
func TestLaunchdPlist(t *testing.T) {
	const agent = "/Users/a b/<bin>&/gitsign-credential-cache"
	b, err := launchdPlist(agent)
	if err != nil {
		t.Fatal(err)
	}
	var plist struct {
		Dict struct {
			Keys    []string `xml:"key"`
			Strings []string `xml:"string"`
			Array   struct {
				Strings []string `xml:"string"`
			} `xml:"array"`
		} `xml:"dict"`
	}
	if err := xml.Unmarshal(b, &plist); err != nil {
		t.Fatalf("not XML: %v\n%s", err, b)
	}
	if got := plist.Dict.Array.Strings; len(got) != 1 || got[0] != agent {
		t.Errorf("ProgramArguments = %q, want [%q]", got, agent)
	}
	if got := plist.Dict.Strings; len(got) != 1 || got[0] != contrib.LaunchdLabel {
		t.Errorf("Label = %q, want %q", got, contrib.LaunchdLabel)
	}
}

// TestProgramPath: the path gitsign was run by when it is this binary
// (a symbolic link kept as it is), else the executable itself.
func TestProgramPath(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "gitsign")
	if err := os.Symlink(exe, link); err != nil {
		t.Fatal(err)
	}
	arg0 := os.Args[0]
	t.Cleanup(func() { os.Args[0] = arg0 })
	os.Args[0] = link
	if got, err := ProgramPath(); err != nil || got != link {
		t.Errorf("run by %s: ProgramPath() = %q, %v; want the link", link, got, err)
	}
	other := filepath.Join(t.TempDir(), "gitsign")
	if err := os.WriteFile(other, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.Args[0] = other
	if got, err := ProgramPath(); err != nil || !sameFile(got, exe) || !filepath.IsAbs(got) {
		t.Errorf("run by another file's name: ProgramPath() = %q, %v; want %s", got, err, exe)
	}
}

// stub puts an executable script named name, recording its arguments in
// DIR/name.log, first in PATH, and returns DIR.
func stub(t *testing.T, dir, name, script string) {
	t.Helper()
	body := "#!/bin/sh\necho \"$*\" >> \"" + filepath.Join(dir, name+".log") + "\"\n" + script
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
}

// testEnv is a fresh home with its own git config, and a directory of
// stand-in programs first in PATH.
type testEnv struct {
	t              *testing.T
	home, bin, run string
	out, warn      bytes.Buffer
}

func newTestEnv(t *testing.T) *testEnv {
	if runtime.GOOS == "windows" {
		t.Skip("stand-in programs are shell scripts")
	}
	e := &testEnv{t: t, home: t.TempDir(), bin: t.TempDir(), run: t.TempDir()}
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_CONFIG_GLOBAL", filepath.Join(e.home, ".gitconfig"))
	t.Setenv("HOME", e.home)
	t.Setenv("XDG_CACHE_HOME", filepath.Join(e.home, ".cache"))
	t.Setenv("PATH", e.bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Chdir(e.home)
	return e
}

func (e *testEnv) options(p *platform) Options {
	return Options{
		Scope:     GlobalScope(),
		Program:   "/opt/gitsign/bin/gitsign",
		Agent:     filepath.Join(e.bin, AgentName),
		StatePath: filepath.Join(e.home, "state.json"),
		Out:       &e.out,
		Warn: func(msg string, hints ...string) {
			fmt.Fprintln(&e.warn, msg)
		},
		plat: p,
	}
}

func (e *testEnv) log(name string) string {
	b, _ := os.ReadFile(filepath.Join(e.bin, name+".log"))
	return string(b)
}

// TestLaunchd: on macOS the plist is written and bootstrapped into the
// GUI domain once; --undo boots it out and removes it.
func TestLaunchd(t *testing.T) {
	e := newTestEnv(t)
	loaded := filepath.Join(e.run, "loaded")
	stub(t, e.bin, "launchctl", fmt.Sprintf(`case "$1" in
print) [ -e %[1]q ] ;;
bootstrap) touch %[1]q ;;
bootout) rm %[1]q ;;
esac
`, loaded))
	p := &platform{goos: "darwin", uid: 501, home: e.home}
	o := e.options(p)
	ctx := context.Background()
	if _, err := Run(ctx, o); err != nil {
		t.Fatal(err)
	}
	plist := filepath.Join(e.home, "Library", "LaunchAgents", contrib.LaunchdLabel+".plist")
	b, err := os.ReadFile(plist)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("<string>"+o.Agent+"</string>")) {
		t.Errorf("the plist does not run %s:\n%s", o.Agent, b)
	}
	if want := "bootstrap gui/501 " + plist + "\n"; !strings.Contains(e.log("launchctl"), want) {
		t.Errorf("launchctl ran:\n%swant %q", e.log("launchctl"), want)
	}
	if _, err := os.Stat(loaded); err != nil {
		t.Fatal("not loaded")
	}

	e.out.Reset()
	if n, err := Run(ctx, o); err != nil || n != 0 {
		t.Errorf("the second run: %d changes, %v:\n%s", n, err, e.out.String())
	}
	if strings.Count(e.log("launchctl"), "bootstrap") != 1 {
		t.Errorf("bootstrapped again:\n%s", e.log("launchctl"))
	}

	if _, err := Undo(ctx, o); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.log("launchctl"), "bootout gui/501/"+contrib.LaunchdLabel+"\n") {
		t.Errorf("launchctl ran:\n%s", e.log("launchctl"))
	}
	if _, err := os.Stat(plist); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the plist is still there: %v", err)
	}
	if _, err := os.Stat(o.StatePath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the state file is still there: %v", err)
	}
}

// TestLaunchdAlreadyLoaded: an agent the person loaded before setup is
// not setup's to boot out.
func TestLaunchdAlreadyLoaded(t *testing.T) {
	e := newTestEnv(t)
	stub(t, e.bin, "launchctl", "exit 0\n")
	p := &platform{goos: "darwin", uid: 501, home: e.home}
	o := e.options(p)
	b, _ := launchdPlist(o.Agent)
	plist := filepath.Join(e.home, "Library", "LaunchAgents", contrib.LaunchdLabel+".plist")
	if err := writeFile(plist, b); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if _, err := Undo(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if log := e.log("launchctl"); strings.Contains(log, "bootstrap") || strings.Contains(log, "bootout") {
		t.Errorf("launchctl ran:\n%s", log)
	}
	if _, err := os.Stat(plist); err != nil {
		t.Errorf("undo removed a plist setup did not write: %v", err)
	}
}

// TestSystemdPackaged: with the packages' agent and units, setup enables
// those and writes no unit of its own.
func TestSystemdPackaged(t *testing.T) {
	e := newTestEnv(t)
	stub(t, e.bin, "systemctl", "case \"$2\" in is-*) exit 1;; esac\n")
	units := t.TempDir()
	for _, u := range []string{socketUnit, serviceUnit} {
		if err := os.WriteFile(filepath.Join(units, u), []byte("[Unit]\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(e.run, "systemd"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := &platform{goos: "linux", home: e.home, configDir: filepath.Join(e.home, ".config"), runtimeDir: e.run,
		packagedAgent: "/usr/bin/" + AgentName, packagedUnits: units}
	o := e.options(p)
	o.Agent = p.packagedAgent
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(p.configDir, "systemd")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("setup wrote units of its own beside the packages': %v", err)
	}
	log := e.log("systemctl")
	if !strings.Contains(log, "--user enable --now -- "+socketUnit+"\n") || strings.Contains(log, "daemon-reload") {
		t.Errorf("systemctl ran:\n%s", log)
	}
}

// TestSystemdUnitsOfTheirOwn: a unit file setup did not write is neither
// replaced nor removed, and its socket not enabled by setup.
func TestSystemdUnitsOfTheirOwn(t *testing.T) {
	e := newTestEnv(t)
	stub(t, e.bin, "systemctl", "exit 0\n")
	if err := os.MkdirAll(filepath.Join(e.run, "systemd"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := &platform{goos: "linux", home: e.home, configDir: filepath.Join(e.home, ".config"), runtimeDir: e.run}
	o := e.options(p)
	own := filepath.Join(p.configDir, "systemd", "user", serviceUnit)
	if err := writeFile(own, []byte("# mine\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.warn.String(), own+" is not what gitsign setup would write there") {
		t.Errorf("warnings:\n%s", e.warn.String())
	}
	if _, err := Undo(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(own); string(b) != "# mine\n" {
		t.Errorf("%s is now %q", own, b)
	}
	if _, err := os.Stat(filepath.Join(p.configDir, "systemd", "user", socketUnit)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the socket unit setup wrote is still there: %v", err)
	}
	if strings.Contains(e.log("systemctl"), "enable") {
		t.Errorf("systemctl ran:\n%s", e.log("systemctl"))
	}
}

// TestUndoLeavesChangedFile: a unit edited since setup wrote it stays.
func TestUndoLeavesChangedFile(t *testing.T) {
	e := newTestEnv(t)
	stub(t, e.bin, "systemctl", "exit 0\n")
	if err := os.MkdirAll(filepath.Join(e.run, "systemd"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := &platform{goos: "linux", home: e.home, configDir: filepath.Join(e.home, ".config"), runtimeDir: e.run}
	o := e.options(p)
	o.Out = io.Discard
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	service := filepath.Join(p.configDir, "systemd", "user", serviceUnit)
	if err := os.WriteFile(service, []byte("# edited\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Undo(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(service); string(b) != "# edited\n" {
		t.Errorf("%s is now %q", service, b)
	}
	if !strings.Contains(e.warn.String(), service+" changed since gitsign setup wrote it") {
		t.Errorf("warnings:\n%s", e.warn.String())
	}
}
