package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Load reads the configuration that applies in the current directory: it
// runs `git config -z --list` once and passes its output to [Parse] with
// [os.LookupEnv]. The listing covers every scope git sees from here,
// including `git -c` settings passed down through the environment.
//
// Outside a repository git lists only the global and system files. If git
// fails with exit status 1 or 128, prints nothing on stdout, and says no
// more than that there is no repository, the git config is taken as
// empty. Any other failure is an error starting "reading git config: ".
func Load(ctx context.Context) (*Config, error) {
	out, err := gitConfigList(ctx)
	if err != nil {
		return nil, err
	}
	return Parse(out, os.LookupEnv)
}

func gitConfigList(ctx context.Context) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", "config", "-z", "--list")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Untranslated messages, so that noRepository can recognise them.
	// The listing itself is raw bytes and does not depend on the locale.
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	err := cmd.Run()
	if err == nil {
		return stdout.Bytes(), nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, fmt.Errorf("reading git config: %w", ctxErr)
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) && noRepository(exitErr.ExitCode(), stdout.Bytes(), stderr.Bytes()) {
		return nil, nil
	}
	if msg := firstLine(stderr.String()); msg != "" {
		return nil, fmt.Errorf("reading git config: %w: %s", err, msg)
	}
	return nil, fmt.Errorf("reading git config: %w", err)
}

// noRepository reports whether a failed `git config --list` only means
// there is nothing to list because there is no repository: exit status 1
// or 128, nothing on stdout, and stderr empty or saying so.
func noRepository(code int, stdout, stderr []byte) bool {
	if code != 1 && code != 128 || len(stdout) != 0 {
		return false
	}
	msg := strings.TrimSpace(string(stderr))
	return msg == "" || !strings.Contains(msg, "\n") && strings.Contains(msg, "not a git repository")
}

// firstLine returns the first non-empty line of s, trimmed, so that an
// error stays on one line.
func firstLine(s string) string {
	for line := range strings.Lines(s) {
		if t := strings.TrimSpace(line); t != "" {
			return t
		}
	}
	return ""
}
