// Package setup takes gitsign from installed to signing in one command
// (gitsign setup): it sets git config so that git signs every commit and
// tag with gitsign (gpg.format, gpg.x509.program, commit.gpgsign,
// tag.gpgsign), and starts the credential cache agent the platform's way:
// systemd user units where a systemd user manager runs, a launchd agent on
// macOS, otherwise it says how to start it. What it changed, and the
// values it replaced, are recorded in a state file, so that [Undo] reverts
// exactly that and never a value or file it did not set. Running it again
// changes nothing that is already as it would make it.
//
// git config is changed only through git config; files setup installs are
// those of package contrib, with the agent's path filled in.
package setup

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/gitsign-dev/gitsign/cache"
	"github.com/gitsign-dev/gitsign/internal/printable"
)

// commandTimeout bounds each git, systemctl or launchctl run.
const commandTimeout = 30 * time.Second

// Options say what to set up, and where to report.
type Options struct {
	// Scope is the git config file to change.
	Scope Scope
	// Program is gitsign's absolute path, for gpg.x509.program.
	Program string
	// Agent is the credential cache agent's absolute path ("" when there
	// is none: setup says so and leaves the agent out).
	Agent string
	// NoAgent leaves the agent alone: neither started nor stopped.
	NoAgent bool
	// DryRun reports what would change and changes nothing.
	DryRun bool
	// StatePath is the state file (DefaultStatePath).
	StatePath string
	// Socket is the agent's socket gitsign is configured to use
	// (gitsign.credentialCache), "" for the default; CacheMode is
	// gitsign.cache. Both only for warnings when the agent setup starts
	// would not be used.
	Socket    string
	CacheMode cache.Mode
	// Out gets one line per change ("would ..." in a dry run) and what the
	// person has to do by hand; Warn gets what went wrong without
	// stopping setup, with hints.
	Out  io.Writer
	Warn func(msg string, hints ...string)

	plat *platform // nil: this machine
}

// platform is what setup needs to know of the machine; tests replace it.
type platform struct {
	goos       string
	uid        int
	home       string
	configDir  string // os.UserConfigDir: systemd user units go under it
	runtimeDir string // $XDG_RUNTIME_DIR: a systemd user manager's lives there
	// packagedAgent is where the Linux packages install the agent, and
	// packagedUnits their systemd user units.
	packagedAgent, packagedUnits string
}

func thisMachine() *platform {
	p := &platform{
		goos:          runtime.GOOS,
		uid:           os.Getuid(),
		runtimeDir:    os.Getenv("XDG_RUNTIME_DIR"),
		packagedAgent: "/usr/bin/" + AgentName,
		packagedUnits: "/usr/lib/systemd/user",
	}
	p.home, _ = os.UserHomeDir()
	p.configDir, _ = os.UserConfigDir()
	return p
}

// session is one run of Run or Undo.
type session struct {
	ctx     context.Context
	o       Options
	plat    *platform
	git     gitConfig
	state   *State
	changed int
}

func newSession(ctx context.Context, o Options) (*session, error) {
	if o.plat == nil {
		o.plat = thisMachine()
	}
	if o.Warn == nil {
		o.Warn = func(string, ...string) {}
	}
	st, err := loadState(o.StatePath)
	if err != nil {
		return nil, err
	}
	return &session{ctx: ctx, o: o, plat: o.plat, git: gitConfig{scope: o.Scope}, state: st}, nil
}

// Run sets gitsign up and returns how many changes it made (in a dry
// run, would make).
func Run(ctx context.Context, o Options) (int, error) {
	s, err := newSession(ctx, o)
	if err != nil {
		return 0, err
	}
	for _, st := range settings(o.Program) {
		if err := s.configure(st); err != nil {
			return s.changed, err
		}
	}
	if !o.NoAgent {
		if err := s.agent(); err != nil {
			return s.changed, err
		}
	}
	if !o.DryRun {
		s.checkEffective(settings(o.Program))
	}
	return s.changed, nil
}

// Undo reverts what Run recorded for o.Scope (and, unless o.NoAgent, the
// agent it started then) and returns how many changes it made.
func Undo(ctx context.Context, o Options) (int, error) {
	s, err := newSession(ctx, o)
	if err != nil {
		return 0, err
	}
	if !o.NoAgent {
		if err := s.undoAgent(); err != nil {
			return s.changed, err
		}
	}
	for i := len(s.state.Config) - 1; i >= 0; i-- {
		if r := s.state.Config[i]; r.Scope == o.Scope.Key {
			if err := s.undoConfig(r); err != nil {
				return s.changed, err
			}
		}
	}
	return s.changed, nil
}

// step makes one change: in a dry run it only says so (would); else it
// records the change in the state file (record), makes it (do) and says
// so (done). If the change fails, the record is taken back.
func (s *session) step(done, would string, record func(), do func() error) error {
	s.changed++
	if s.o.DryRun {
		fmt.Fprintln(s.o.Out, printable.String(would))
		return nil
	}
	before, err := json.Marshal(s.state)
	if err != nil {
		return err
	}
	if record != nil {
		record()
		if err := s.state.save(s.o.StatePath); err != nil {
			return err
		}
	}
	if err := do(); err != nil {
		var st State
		if json.Unmarshal(before, &st) == nil {
			*s.state = st
			s.state.save(s.o.StatePath)
		}
		return err
	}
	fmt.Fprintln(s.o.Out, printable.String(done))
	return nil
}

// configure sets st in the scope's file unless it is already so.
func (s *session) configure(st setting) error {
	ok, err := s.git.isSet(s.ctx, st)
	if err != nil || ok {
		return err
	}
	prev, err := s.git.previous(s.ctx, st)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("set %s=%s in %s", st.key, st.value, s.o.Scope.Name)
	record := func() {
		if r := s.state.config(s.o.Scope.Key, st.key); r != nil {
			r.Set = st.value // the first run's Previous is what to restore
			return
		}
		s.state.Config = append(s.state.Config, ConfigRecord{Scope: s.o.Scope.Key, Key: st.key, Previous: prev, Set: st.value})
	}
	return s.step(what+" (was "+describe(prev)+")", "would "+what+" (now "+describe(prev)+")", record,
		func() error { return s.git.set(s.ctx, st.key, st.value) })
}

// undoConfig restores what r replaced, if the key still holds what setup
// set; otherwise someone changed it since, and it stays as it is.
func (s *session) undoConfig(r ConfigRecord) error {
	forget := func() { s.state.forgetConfig(r.Scope, r.Key) }
	cur, err := s.git.values(s.ctx, r.Key, false)
	if err != nil {
		return err
	}
	if len(cur) != 1 || cur[0] != r.Set {
		s.o.Warn(fmt.Sprintf("%s in %s is %s, not what gitsign setup set: left as it is", r.Key, s.o.Scope.Name, describe(cur)))
		if !s.o.DryRun {
			forget()
			return s.state.save(s.o.StatePath)
		}
		return nil
	}
	what := fmt.Sprintf("unset %s in %s", r.Key, s.o.Scope.Name)
	if len(r.Previous) > 0 {
		what = fmt.Sprintf("restored %s=%s in %s", r.Key, strings.Join(r.Previous, ", "), s.o.Scope.Name)
	}
	would := "would " + strings.Replace(what, "restored", "restore", 1)
	return s.step(what, would, forget, func() error { return s.git.restore(s.ctx, r.Key, r.Previous) })
}

// checkEffective warns when another git config file overrides what setup
// set, where setup runs.
func (s *session) checkEffective(sets []setting) {
	for _, st := range sets {
		value, origin, ok, err := effective(s.ctx, st)
		if err != nil || !ok || value == st.value {
			continue
		}
		s.o.Warn(fmt.Sprintf("%s is %s here, set in %s, which wins over %s", st.key, value, strings.TrimPrefix(origin, "file:"), s.o.Scope.Name),
			"git config --show-origin --get-all "+st.key+" shows where it is set")
	}
}

// command runs a program (systemctl, launchctl) and returns its standard
// output; a failure says what ran and what it said.
func command(ctx context.Context, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.Join(strings.Fields(stderr.String()), " ")
		if msg == "" {
			msg = err.Error()
		}
		return stdout.String(), fmt.Errorf("%s: %s", commandLine(name, args), msg)
	}
	return stdout.String(), nil
}

// commandLine shows a command as a person would type it (without --).
func commandLine(name string, args []string) string {
	words := []string{name}
	for _, a := range args {
		if a != "--" {
			words = append(words, a)
		}
	}
	return strings.Join(words, " ")
}
