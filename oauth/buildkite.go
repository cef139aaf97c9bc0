package oauth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/gitsign-dev/gitsign/internal/printable"
)

// ProviderBuildkite asks the Buildkite agent of the running job for a token.
const ProviderBuildkite = "buildkite-agent"

// EnvBuildkiteAgentToken is set by the Buildkite agent in every job; the
// reference (cosign's buildkite-agent provider) takes it as the sign of a
// Buildkite job, and buildkite-agent reads it to authenticate its request.
const EnvBuildkiteAgentToken = "BUILDKITE_AGENT_ACCESS_TOKEN"

// ErrNoBuildkiteAgent is wrapped when the buildkite-agent command is not
// on PATH.
var ErrNoBuildkiteAgent = errors.New("the buildkite-agent command is not found on PATH")

// buildkiteCommand is the agent's command-line tool, found on PATH.
const buildkiteCommand = "buildkite-agent"

// defaultBuildkiteTimeout bounds the whole command when Options.Timeout is
// zero. buildkite-agent itself retries a failed request up to five times
// with a growing pause (2s, 4s, 8s, 16s), so its own failures take about
// half a minute.
const defaultBuildkiteTimeout = 60 * time.Second

// maxBuildkiteStderr is how much of the command's standard error is kept.
const maxBuildkiteStderr = 16 << 10

// buildkiteToken runs `buildkite-agent oidc request-token --audience AUD`
// (AUD is o.ClientID, DefaultAudience when empty), which asks the Buildkite
// agent API for an OIDC token claiming the job (BUILDKITE_JOB_ID) and
// prints it. The command runs without a shell, with the environment of
// gitsign, no standard input, a timeout (twice o.Timeout, 60 seconds when
// unset) and its output bounded; its token is then checked as the other
// ambient tokens are (a JWT, not expired, for the audience asked for).
func buildkiteToken(ctx context.Context, o *Options) (*IDToken, error) {
	if v, _ := o.LookupEnv(EnvBuildkiteAgentToken); strings.TrimSpace(v) == "" {
		return nil, fmt.Errorf("%w: not in a Buildkite job: %s is not set (the Buildkite agent sets it in each job)", ErrNoToken, EnvBuildkiteAgentToken)
	}
	path, err := exec.LookPath(buildkiteCommand)
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return nil, fmt.Errorf("%w: it asks the Buildkite agent for the job's token", ErrNoBuildkiteAgent)
		}
		return nil, fmt.Errorf("the %s command: %w", buildkiteCommand, err)
	}
	aud := o.ClientID
	if aud == "" {
		aud = DefaultAudience
	}
	timeout := defaultBuildkiteTimeout
	if o.Timeout > 0 {
		timeout = 2 * o.Timeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(cctx, path, "oidc", "request-token", "--audience", aud)
	cmd.Stdin = nil
	stdout := &capped{max: maxTokenLen + 1}
	stderr := &capped{max: maxBuildkiteStderr}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// A child it leaves behind holding the pipes cannot keep gitsign
	// waiting past the timeout.
	cmd.WaitDelay = time.Second
	run := "buildkite-agent oidc request-token --audience " + printable.Quote(aud)
	done := o.Progress("asking the Buildkite agent for an identity token")
	err = cmd.Run()
	done(err)
	switch {
	case cctx.Err() != nil && ctx.Err() == nil:
		return nil, fmt.Errorf("%s did not finish within %s", run, timeout)
	case ctx.Err() != nil:
		return nil, fmt.Errorf("%s: %w", run, context.Cause(ctx))
	case err != nil:
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.Exited() {
			return nil, fmt.Errorf("%s exited with status %d%s", run, ee.ExitCode(), stderrLine(stderr.buf.Bytes()))
		}
		return nil, fmt.Errorf("running %s: %w%s", run, err, stderrLine(stderr.buf.Bytes()))
	case stdout.over:
		return nil, fmt.Errorf("%s printed more than %d bytes, which is no token", run, maxTokenLen)
	}
	raw := trimToken(stdout.buf.String())
	if raw == "" {
		return nil, fmt.Errorf("%w: %s printed nothing", ErrNoToken, run)
	}
	tok, err := ParseUnverified(raw)
	if err != nil {
		return nil, fmt.Errorf("the Buildkite token: %w", err)
	}
	if err := checkAudience(tok, aud, "the Buildkite token"); err != nil {
		return nil, err
	}
	return tok, nil
}

// stderrLine is ": " and the last line a command wrote to standard error
// that is not blank, escaped and cut short, or "" when it wrote nothing.
// The last line, not the first: buildkite-agent logs a warning for each
// attempt it retries before the error that ends it.
func stderrLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return ": " + displayLine(l)
		}
	}
	return ""
}

// displayLine shows one line of a program's output: control characters
// and invalid UTF-8 escaped (printable.String), cut after 200 bytes.
func displayLine(s string) string {
	const maxLen = 200
	if len(s) > maxLen {
		return printable.String(strings.ToValidUTF8(s[:maxLen], "")) + "..."
	}
	return printable.String(s)
}

// capped keeps the first max bytes written to it and notes whether more
// came; it never fails a write, so the program writing is not stopped
// with a broken pipe. (It has no ReadFrom, which would bypass the cap.)
type capped struct {
	buf  bytes.Buffer
	max  int
	over bool
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.buf.Len(); room < len(p) {
		c.over = true
		if room > 0 {
			c.buf.Write(p[:room])
		}
		return len(p), nil
	}
	return c.buf.Write(p)
}

// checkAudience refuses a token that is not for aud, the audience asked
// for; what names the token.
func checkAudience(tok *IDToken, aud, what string) error {
	for _, a := range tok.Audience {
		if a == aud {
			return nil
		}
	}
	return fmt.Errorf("%s is for audience %s, not the %s that was asked for", what, displayString(strings.Join(tok.Audience, ",")), printable.Quote(aud))
}
