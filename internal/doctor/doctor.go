// Package doctor finds what stands between a person and a working gitsign
// setup, for `gitsign doctor`: settings that are invalid or misspelt, git
// not wired to this gitsign, a credential cache agent that is not there or
// is another program's, trust material that is missing or going stale,
// Sigstore services that cannot be reached, and a clock too far off for
// 10-minute certificates.
//
// Each check ends ok, warn (signing works, but not as the person likely
// wants), fail (signing or verifying will fail) or skip (not checked), with
// a one-line summary and hints that name the command to run or the
// setting to change. Run never fails itself: what it cannot find out is a
// check's outcome. Network checks run concurrently, each bounded by a short
// timeout, through the proxy the environment names.
package doctor

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/gitsign-dev/gitsign/cache"
	"github.com/gitsign-dev/gitsign/internal/config"
	"github.com/gitsign-dev/gitsign/internal/printable"
)

// Schema is the version of the JSON report.
const Schema = 1

// Status is a check's outcome.
type Status string

// Outcomes, from best to worst; Skip means not checked.
const (
	OK   Status = "ok"
	Warn Status = "warn"
	Fail Status = "fail"
	Skip Status = "skip"
)

// A Check is one thing doctor looked at.
type Check struct {
	// Name is short and stable, e.g. "config" or "fulcio".
	Name   string `json:"name"`
	Status Status `json:"status"`
	// Summary says what was found, in one line.
	Summary string `json:"summary"`
	// Hints say what to do about it: a command to run, a setting to
	// change. None when there is nothing to do.
	Hints []string `json:"hints,omitempty"`
}

// Report is every check, in a fixed order. It is what `gitsign doctor
// --json` prints.
type Report struct {
	Schema int `json:"schema"`
	// OK is true when no check failed (warnings allowed).
	OK     bool    `json:"ok"`
	Checks []Check `json:"checks"`
}

// Failed returns the names of the checks that failed.
func (r *Report) Failed() []string {
	var out []string
	for _, c := range r.Checks {
		if c.Status == Fail {
			out = append(out, c.Name)
		}
	}
	return out
}

// Options are what Run looks at. The zero value of each field but
// GitConfig and Environ has a working default.
type Options struct {
	// GitConfig is the output of `git config -z --list` where gitsign
	// runs (config.GitConfigList).
	GitConfig []byte
	// Environ is the environment, as from os.Environ.
	Environ []string
	// Executable is the running gitsign (os.Executable when empty).
	Executable string
	// LookPath finds a program as git would (exec.LookPath when nil).
	LookPath func(string) (string, error)
	// TUFCache returns the directory `gitsign initialize` caches the
	// trusted root in under cfg; "" for none. Nil means none.
	TUFCache func(cfg *config.Config) string
	// Offline skips every check that needs the network.
	Offline bool
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Transport carries the network checks' requests; nil means gitsign's
	// own (package httpx), which honours HTTPS_PROXY, HTTP_PROXY and
	// NO_PROXY as the process environment sets them.
	Transport http.RoundTripper
	// ServiceTimeout bounds each service's check (5s when zero).
	ServiceTimeout time.Duration
	// AgentTimeout bounds the agent's check, connecting included
	// (cache.DefaultAgentTimeout when zero).
	AgentTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.Executable == "" {
		o.Executable, _ = os.Executable()
	}
	if o.LookPath == nil {
		o.LookPath = exec.LookPath
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ServiceTimeout <= 0 {
		o.ServiceTimeout = 5 * time.Second
	}
	if o.TUFCache == nil {
		o.TUFCache = func(*config.Config) string { return "" }
	}
	if o.AgentTimeout <= 0 {
		o.AgentTimeout = cache.DefaultAgentTimeout
	}
	return o
}

// lookupEnv looks name up in o.Environ; the last entry wins, as in a
// process environment built by appending.
func (o Options) lookupEnv(name string) (string, bool) {
	val, found := "", false
	for _, kv := range o.Environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			val, found = v, true
		}
	}
	return val, found
}

// Run runs every check. Text that comes from outside (servers, files,
// settings) is escaped in the report.
func Run(ctx context.Context, o Options) *Report {
	o = o.withDefaults()
	cfg, configCheck := checkConfig(o)
	checks := []Check{configCheck}
	checks = append(checks, checkGit(o)...)
	checks = append(checks, checkAgent(o, cfg), checkTrust(o, cfg))
	checks = append(checks, checkNetwork(ctx, o, cfg)...)
	r := &Report{Schema: Schema, OK: true, Checks: checks}
	for i := range r.Checks {
		c := &r.Checks[i]
		c.Summary = printable.String(c.Summary)
		for j := range c.Hints {
			c.Hints[j] = printable.String(c.Hints[j])
		}
		if c.Status == Fail {
			r.OK = false
		}
	}
	return r
}

// WriteText writes r as a checklist, one line per check and one per hint:
//
//	ok    config        every setting is valid
//	warn  git-autosign  commit.gpgsign is not set: ...
//	                    hint: gitsign setup
func (r *Report) WriteText(w io.Writer) error {
	width := 0
	for _, c := range r.Checks {
		width = max(width, len(c.Name))
	}
	var b strings.Builder
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "%-5s %-*s  %s\n", c.Status, width, c.Name, c.Summary)
		for _, h := range c.Hints {
			fmt.Fprintf(&b, "%-5s %-*s  hint: %s\n", "", width, "", h)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// check is a shorthand for a Check.
func check(name string, s Status, summary string, hints ...string) Check {
	return Check{Name: name, Status: s, Summary: summary, Hints: hints}
}
