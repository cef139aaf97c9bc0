package setup

import (
	"os"
	"path/filepath"
	"strings"
)

// userSystemd reports whether a systemd user manager runs for this user:
// systemctl is in PATH and the manager's directory in $XDG_RUNTIME_DIR
// exists.
func (p *platform) userSystemd() bool {
	if p.runtimeDir == "" || !found("systemctl") {
		return false
	}
	fi, err := os.Stat(filepath.Join(p.runtimeDir, "systemd"))
	return err == nil && fi.IsDir()
}

// packaged reports whether the agent is the Linux packages' and their
// units are installed: then those are the units to enable.
func (s *session) packaged() bool {
	if s.o.Agent != s.plat.packagedAgent {
		return false
	}
	for _, u := range []string{socketUnit, serviceUnit} {
		if _, err := os.Stat(filepath.Join(s.plat.packagedUnits, u)); err != nil {
			return false
		}
	}
	return true
}

// systemd installs the agent's user units (unless the packaged ones
// serve), enables and starts the socket, and makes sure gitsign looks for
// the agent where systemd made the socket (def, unless told otherwise).
func (s *session) systemd(def string) error {
	usable := true
	if !s.packaged() {
		service, err := systemdService(s.o.Agent)
		if err != nil {
			return err
		}
		dir := filepath.Join(s.plat.configDir, "systemd", "user")
		wrote, restart := false, false
		for _, u := range []struct {
			name string
			body []byte
		}{{socketUnit, systemdSocket()}, {serviceUnit, service}} {
			before := s.changed
			ok, replaced, err := s.install(filepath.Join(dir, u.name), u.body)
			if err != nil {
				return err
			}
			usable = usable && ok
			wrote = wrote || s.changed > before
			restart = restart || replaced && u.name == serviceUnit
		}
		if wrote {
			if err := s.systemctlStep(nil, "daemon-reload"); err != nil {
				return err
			}
		}
		if restart { // a running agent started from the old path
			if err := s.systemctlStep(nil, "try-restart", "--", serviceUnit); err != nil {
				return err
			}
		}
	}
	if !usable {
		return nil // units of the person's own: theirs to enable
	}
	enabled := s.systemctlQuery("is-enabled", socketUnit)
	if !enabled || !s.systemctlQuery("is-active", socketUnit) {
		var record func()
		if !enabled && s.state.service("systemd", socketUnit) == nil {
			record = func() {
				s.state.Services = append(s.state.Services, ServiceRecord{Scope: s.o.Scope.Key, Manager: "systemd", Name: socketUnit})
			}
		}
		if err := s.systemctlStep(record, "enable", "--now", "--", socketUnit); err != nil {
			return err
		}
	}
	if s.o.DryRun {
		s.socketMismatch(def)
		return nil
	}
	return s.useListen(def)
}

// useListen asks systemd where the socket is. It is normally def, where
// gitsign looks (systemd's %C and gitsign's cache directory are both
// $XDG_CACHE_HOME or ~/.cache), but the user manager's environment may
// differ from the person's: then gitsign.credentialCache is set to it.
func (s *session) useListen(def string) error {
	out, err := command(s.ctx, "systemctl", "--user", "show", "--property=Listen", "--value", "--", socketUnit)
	listen, _, _ := strings.Cut(strings.TrimSpace(out), " (")
	if err != nil || !filepath.IsAbs(listen) {
		return nil // systemd cannot tell: nothing better to do than the default
	}
	switch {
	case s.o.Socket == "" && listen == def, s.o.Socket == listen:
		return nil
	case s.o.Socket == "":
		return s.configure(setting{key: "gitsign.credentialCache", value: listen})
	}
	s.socketMismatch(listen)
	return nil
}

// undoSystemdService disables and stops the socket setup enabled, and the
// agent it started.
func (s *session) undoSystemdService(r ServiceRecord) error {
	forget := func() { s.state.forgetService(r.Manager, r.Name) }
	if err := s.systemctlStep(forget, "disable", "--now", "--", r.Name); err != nil {
		return err
	}
	if r.Name == socketUnit && s.systemctlQuery("is-active", serviceUnit) {
		return s.systemctlStep(nil, "stop", "--", serviceUnit)
	}
	return nil
}

// systemctlStep runs systemctl --user args as a step.
func (s *session) systemctlStep(record func(), args ...string) error {
	args = append([]string{"--user"}, args...)
	line := commandLine("systemctl", args)
	return s.step("ran: "+line, "would run: "+line, record, func() error {
		_, err := command(s.ctx, "systemctl", args...)
		return err
	})
}

// systemctlQuery reports whether systemctl --user VERB --quiet UNIT
// succeeds (is-enabled, is-active).
func (s *session) systemctlQuery(verb, unit string) bool {
	_, err := command(s.ctx, "systemctl", "--user", verb, "--quiet", "--", unit)
	return err == nil
}
