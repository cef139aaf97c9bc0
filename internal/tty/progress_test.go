package tty

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// fakeClock collects the functions Step schedules; fire runs them as if
// the delay had passed.
type fakeClock struct {
	pending []func()
	stopped int
}

func (c *fakeClock) after(_ time.Duration, f func()) func() bool {
	i := len(c.pending)
	c.pending = append(c.pending, f)
	return func() bool {
		if c.pending[i] == nil {
			return false
		}
		c.pending[i] = nil
		c.stopped++
		return true
	}
}

func (c *fakeClock) fire() {
	for i, f := range c.pending {
		if f != nil {
			c.pending[i] = nil
			f()
		}
	}
}

func newFake(t *testing.T) (*Messages, *fakeClock, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var term, errs, log bytes.Buffer
	m := New(&term, &errs, &log).WithProgress(&term, time.Second)
	c := &fakeClock{}
	m.progress.after = c.after
	return m, c, &term, &errs, &log
}

// TestStepQuick: a step that ends within the delay shows nothing.
func TestStepQuick(t *testing.T) {
	m, c, term, errs, log := newFake(t)
	done := m.Step("getting a certificate from Fulcio")
	done(nil)
	c.fire()
	if term.Len()+errs.Len()+log.Len() != 0 || c.stopped != 1 {
		t.Errorf("a quick step printed %q %q %q (timer stopped %d times)", term, errs, log, c.stopped)
	}
}

// TestStepSlow: a step still running after the delay is announced on the
// terminal and finished on the same line; nothing reaches standard error
// or the log.
func TestStepSlow(t *testing.T) {
	m, c, term, errs, log := newFake(t)
	done := m.Step("getting a certificate from Fulcio")
	c.fire()
	if got := term.String(); got != "gitsign: getting a certificate from Fulcio..." {
		t.Errorf("announced %q", got)
	}
	done(nil)
	done(errors.New("ignored: only the first call counts"))
	if got := term.String(); got != "gitsign: getting a certificate from Fulcio... done\n" {
		t.Errorf("terminal %q", got)
	}
	if errs.Len()+log.Len() != 0 {
		t.Errorf("progress went to stderr %q or the log %q", errs, log)
	}
}

// TestStepInterrupted: a message written while a step is announced starts
// on a line of its own, and the step's end repeats its name.
func TestStepInterrupted(t *testing.T) {
	m, c, term, _, _ := newFake(t)
	done := m.Step("waiting for the browser login")
	c.fire()
	m.Terminal().Write([]byte("Opening in existing browser session.\n"))
	m.Errorf("fulcio: %v", "no answer within 30s")
	m.Hintf("raise gitsign.timeout")
	done(errors.New("failed"))
	want := "gitsign: waiting for the browser login...\nOpening in existing browser session.\ngitsign: waiting for the browser login... failed\n"
	if got := term.String(); got != want {
		t.Errorf("terminal\n%q, want\n%q", got, want)
	}
}

// TestStepNoTerminal: without a terminal, steps are silent.
func TestStepNoTerminal(t *testing.T) {
	var term, errs bytes.Buffer
	m := New(&term, &errs, nil)
	done := m.Step("contacting the transparency log")
	done(nil)
	if term.Len()+errs.Len() != 0 {
		t.Errorf("printed %q %q", term.String(), errs.String())
	}
}

// TestStepNoDelay: delay 0 announces at once (tests of callers use it).
func TestStepNoDelay(t *testing.T) {
	var term bytes.Buffer
	m := New(&term, &term, nil).WithProgress(&term, 0)
	m.Step("a \x1b[2J step")(nil)
	if got := term.String(); got != "gitsign: a \\x1b[2J step... done\n" {
		t.Errorf("terminal %q", got)
	}
}

// TestHintFollowsItsMessage: a hint goes where the message before it went,
// on one line, and into the log.
func TestHintFollowsItsMessage(t *testing.T) {
	var term, errs, log bytes.Buffer
	m := New(&term, &errs, &log)
	m.Hintf("before anything: with the errors")
	m.Warnf("no agent")
	m.Hintf("start it:\ngitsign-credential-cache &")
	m.Errorf("failed")
	m.Hintf("try again")
	if got, want := term.String(), "gitsign: warning: no agent\ngitsign: hint: start it:\\x0agitsign-credential-cache &\n"; got != want {
		t.Errorf("terminal %q, want %q", got, want)
	}
	if got, want := errs.String(), "gitsign: hint: before anything: with the errors\ngitsign: error: failed\ngitsign: hint: try again\n"; got != want {
		t.Errorf("errors %q, want %q", got, want)
	}
	if n := bytes.Count(log.Bytes(), []byte("\n")); n != 5 {
		t.Errorf("log has %d lines: %q", n, log.String())
	}
}
