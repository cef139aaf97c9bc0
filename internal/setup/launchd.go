package setup

import (
	"fmt"
	"path/filepath"

	"github.com/gitsign-dev/gitsign/contrib"
)

// launchd installs the agent's launchd user agent into
// ~/Library/LaunchAgents and loads it into the person's GUI domain, where
// it starts at once and at every login. The agent listens on its default
// socket, where gitsign looks.
func (s *session) launchd() error {
	body, err := launchdPlist(s.o.Agent)
	if err != nil {
		return err
	}
	plist := filepath.Join(s.plat.home, "Library", "LaunchAgents", contrib.LaunchdLabel+".plist")
	target := s.launchdTarget()
	_, err = command(s.ctx, "launchctl", "print", target)
	loaded := err == nil
	before := s.changed
	ok, replaced, err := s.install(plist, body)
	if err != nil || !ok {
		return err // !ok: a plist of the person's own, theirs to load
	}
	if replaced && loaded && s.changed > before { // an agent started from the old path
		if err := s.launchctlStep(nil, "bootout", target); err != nil {
			return err
		}
		loaded = false
	}
	if loaded {
		return nil
	}
	var record func()
	if s.state.service("launchd", target) == nil {
		record = func() {
			s.state.Services = append(s.state.Services, ServiceRecord{Scope: s.o.Scope.Key, Manager: "launchd", Name: target})
		}
	}
	return s.launchctlStep(record, "bootstrap", fmt.Sprintf("gui/%d", s.plat.uid), plist)
}

// launchdTarget is the agent's service target, gui/UID/LABEL.
func (s *session) launchdTarget() string {
	return fmt.Sprintf("gui/%d/%s", s.plat.uid, contrib.LaunchdLabel)
}

// undoLaunchdService unloads the agent setup loaded, if it still is.
func (s *session) undoLaunchdService(r ServiceRecord) error {
	forget := func() { s.state.forgetService(r.Manager, r.Name) }
	if _, err := command(s.ctx, "launchctl", "print", r.Name); err != nil {
		if !s.o.DryRun {
			forget()
			return s.state.save(s.o.StatePath)
		}
		return nil
	}
	return s.launchctlStep(forget, "bootout", r.Name)
}

// launchctlStep runs launchctl args as a step. Its arguments are a
// service target and an absolute path: none can be taken for an option.
func (s *session) launchctlStep(record func(), args ...string) error {
	line := commandLine("launchctl", args)
	return s.step("ran: "+line, "would run: "+line, record, func() error {
		_, err := command(s.ctx, "launchctl", args...)
		return err
	})
}
