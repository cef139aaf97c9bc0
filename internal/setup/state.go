package setup

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// State is what setup changed, kept in a JSON file (StatePath) so that
// Undo reverts exactly that and nothing else. Every record names the
// Scope.Key of the run that made it: undoing the global setup leaves a
// repository's setup alone, and the other way round.
type State struct {
	Version int `json:"version"`
	// Config: git config keys setup set, with the values they had before.
	Config []ConfigRecord `json:"config,omitempty"`
	// Files setup wrote (service units), with a digest of what it wrote:
	// a file changed since is not setup's to remove.
	Files []FileRecord `json:"files,omitempty"`
	// Services setup enabled or loaded; one already running before is not
	// recorded, so Undo never stops it.
	Services []ServiceRecord `json:"services,omitempty"`
}

// ConfigRecord is one git config key setup set.
type ConfigRecord struct {
	Scope string `json:"scope"`
	Key   string `json:"key"`
	// Previous are the key's values in that file before setup first set
	// it (none: it was unset there).
	Previous []string `json:"previous"`
	// Set is the value setup set.
	Set string `json:"set"`
}

// FileRecord is one file setup wrote.
type FileRecord struct {
	Scope  string `json:"scope"`
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// ServiceRecord is one service setup enabled: a systemd user unit, or a
// launchd agent (Name is its service target, gui/UID/LABEL).
type ServiceRecord struct {
	Scope   string `json:"scope"`
	Manager string `json:"manager"` // "systemd" or "launchd"
	Name    string `json:"name"`
}

const stateVersion = 1

// DefaultStatePath is setup.json in gitsign's directory of the user's
// config directory ($XDG_CONFIG_HOME/gitsign/setup.json on Linux).
func DefaultStatePath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("setup: finding where to keep what it changed: %w", err)
	}
	return filepath.Join(dir, "gitsign", "setup.json"), nil
}

// loadState reads the state file; a missing file is an empty State.
func loadState(path string) (*State, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &State{Version: stateVersion}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("setup: reading %s: %w", path, err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("setup: %s is not what gitsign setup writes: %w", path, err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("setup: %s has version %d, this gitsign reads version %d", path, st.Version, stateVersion)
	}
	return &st, nil
}

// save writes the state file (0600, through a temporary file and a
// rename), or removes it when nothing is recorded.
func (st *State) save(path string) error {
	if len(st.Config) == 0 && len(st.Files) == 0 && len(st.Services) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("setup: %w", err)
		}
		return nil
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	return writeAtomic(path, append(b, '\n'), 0o700, 0o600)
}

func (st *State) config(scope, key string) *ConfigRecord {
	for i := range st.Config {
		if st.Config[i].Scope == scope && st.Config[i].Key == key {
			return &st.Config[i]
		}
	}
	return nil
}

func (st *State) file(path string) *FileRecord {
	for i := range st.Files {
		if st.Files[i].Path == path {
			return &st.Files[i]
		}
	}
	return nil
}

func (st *State) service(manager, name string) *ServiceRecord {
	for i := range st.Services {
		if st.Services[i].Manager == manager && st.Services[i].Name == name {
			return &st.Services[i]
		}
	}
	return nil
}

// forgetConfig, forgetFile and forgetService drop a record once undone.
func (st *State) forgetConfig(scope, key string) {
	st.Config = slices.DeleteFunc(st.Config, func(c ConfigRecord) bool { return c.Scope == scope && c.Key == key })
}

func (st *State) forgetFile(path string) {
	st.Files = slices.DeleteFunc(st.Files, func(f FileRecord) bool { return f.Path == path })
}

func (st *State) forgetService(manager, name string) {
	st.Services = slices.DeleteFunc(st.Services, func(s ServiceRecord) bool { return s.Manager == manager && s.Name == name })
}

// digest is the hex SHA-256 of b.
func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
