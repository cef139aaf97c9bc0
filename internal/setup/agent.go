package setup

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/gitsign-dev/gitsign/cache"
	"github.com/gitsign-dev/gitsign/internal/printable"
)

// agent starts the credential cache agent the platform's way, or says how
// to start it.
func (s *session) agent() error {
	switch {
	case s.plat.goos == "windows":
		fmt.Fprintln(s.o.Out, "the credential cache agent does not run on Windows; to keep a login for the next signatures: git config --global gitsign.cache keyring")
		return nil
	case s.o.Agent == "":
		s.o.Warn(AgentName+" is neither next to gitsign nor in PATH: each signature will log in",
			"install it next to "+s.o.Program+" and run gitsign setup again")
		return nil
	}
	if s.o.CacheMode == cache.ModeOff || s.o.CacheMode == cache.ModeKeyring {
		s.o.Warn(fmt.Sprintf("gitsign.cache (or GITSIGN_CACHE) is %s: signing will not use the agent", s.o.CacheMode),
			"unset it to use the agent when it runs (auto, the default)")
	}
	def, err := cache.DefaultSocketPath()
	if err != nil {
		return err
	}
	switch {
	case s.plat.goos == "linux" && s.plat.userSystemd():
		return s.systemd(def)
	case s.plat.goos == "darwin" && found("launchctl"):
		s.socketMismatch(def)
		return s.launchd()
	}
	s.manual(def)
	return nil
}

// undoAgent stops and removes what Run started and wrote for the scope.
func (s *session) undoAgent() error {
	for i := len(s.state.Services) - 1; i >= 0; i-- {
		r := s.state.Services[i]
		if r.Scope != s.o.Scope.Key {
			continue
		}
		var err error
		switch r.Manager {
		case "systemd":
			err = s.undoSystemdService(r)
		case "launchd":
			err = s.undoLaunchdService(r)
		}
		if err != nil {
			return err
		}
	}
	removedUnit := false
	for i := len(s.state.Files) - 1; i >= 0; i-- {
		r := s.state.Files[i]
		if r.Scope != s.o.Scope.Key {
			continue
		}
		removed, err := s.removeFile(r)
		if err != nil {
			return err
		}
		removedUnit = removedUnit || removed && filepath.Ext(r.Path) != ".plist"
	}
	if removedUnit && found("systemctl") {
		return s.systemctlStep(nil, "daemon-reload")
	}
	return nil
}

// manual says how to start the agent where setup cannot.
func (s *session) manual(def string) {
	run := s.o.Agent
	if p, err := exec.LookPath(AgentName); err == nil && sameFile(p, s.o.Agent) {
		run = AgentName
	} else if q, ok := printable.ShellQuote(run); ok {
		run = q
	}
	socket := def
	if s.o.Socket != "" && s.o.Socket != def {
		socket = s.o.Socket
		if q, ok := printable.ShellQuote(socket); ok {
			run += " --socket " + q
		} else {
			run += " --socket PATH"
		}
	}
	fmt.Fprintf(s.o.Out, "to keep a login for the next signatures, start the credential cache agent (gitsign setup cannot here: no systemd user manager, no launchd):\n  %s &\n", printable.String(run))
	fmt.Fprintf(s.o.Out, "it listens on %s, where gitsign looks for it; for a socket elsewhere, start it with --socket PATH and export GITSIGN_CREDENTIAL_CACHE=PATH\n", printable.String(socket))
}

// socketMismatch warns when gitsign is configured to look for the agent
// somewhere else than where the agent setup starts listens.
func (s *session) socketMismatch(listen string) {
	if s.o.Socket != "" && s.o.Socket != listen {
		s.o.Warn(fmt.Sprintf("gitsign.credentialCache (or GITSIGN_CREDENTIAL_CACHE) is %s, but the agent listens on %s", s.o.Socket, listen),
			"unset it, to use the agent")
	}
}

// install writes body to path unless it holds body already, and reports
// whether the file now holds body (in a dry run, would) and whether it
// replaced an earlier version setup wrote. A file setup did not write is
// never replaced.
func (s *session) install(path string, body []byte) (ok, replaced bool, err error) {
	have, err := os.ReadFile(path)
	switch {
	case err == nil && bytes.Equal(have, body):
		return true, false, nil
	case err == nil:
		if r := s.state.file(path); r == nil || r.SHA256 != digest(have) {
			s.o.Warn(path+" is not what gitsign setup would write there, and gitsign setup did not write it: left as it is",
				"to have gitsign setup's, move it away and run gitsign setup again")
			return false, false, nil
		}
		replaced = true
	case !errors.Is(err, fs.ErrNotExist):
		return false, false, fmt.Errorf("setup: %w", err)
	}
	record := func() {
		if r := s.state.file(path); r != nil {
			r.SHA256 = digest(body)
			return
		}
		s.state.Files = append(s.state.Files, FileRecord{Scope: s.o.Scope.Key, Path: path, SHA256: digest(body)})
	}
	err = s.step("wrote "+path, "would write "+path, record, func() error { return writeFile(path, body) })
	return err == nil, replaced, err
}

// removeFile removes a file setup wrote, unless it changed since.
func (s *session) removeFile(r FileRecord) (bool, error) {
	forget := func() { s.state.forgetFile(r.Path) }
	have, err := os.ReadFile(r.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if !s.o.DryRun {
			forget()
			return false, s.state.save(s.o.StatePath)
		}
		return false, nil
	case err != nil:
		return false, fmt.Errorf("setup: %w", err)
	case digest(have) != r.SHA256:
		s.o.Warn(r.Path + " changed since gitsign setup wrote it: left in place")
		if !s.o.DryRun {
			forget()
			return false, s.state.save(s.o.StatePath)
		}
		return false, nil
	}
	err = s.step("removed "+r.Path, "would remove "+r.Path, forget, func() error { return os.Remove(r.Path) })
	return err == nil, err
}

// writeFile writes body to path (0644) through a temporary file and a
// rename, making the directory (0755) when needed.
func writeFile(path string, body []byte) error {
	return writeAtomic(path, body, 0o755, 0o644)
}

// writeAtomic writes body to path with mode through a temporary file in
// the same directory and a rename, so that path holds either the old
// bytes or the new ones; it makes the directory with dirMode if needed.
func writeAtomic(path string, body []byte, dirMode, mode os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	_, err = tmp.Write(body)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("setup: writing %s: %w", path, err)
	}
	return nil
}

// found reports whether name is in PATH.
func found(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}
