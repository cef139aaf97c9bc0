package oauth

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
)

// envToken reads SIGSTORE_ID_TOKEN.
func envToken(_ context.Context, o *Options) (*IDToken, error) {
	v, ok := o.LookupEnv(EnvIDToken)
	raw := trimToken(v)
	if !ok || raw == "" {
		return nil, fmt.Errorf("%w: %s is not set", ErrNoToken, EnvIDToken)
	}
	tok, err := ParseUnverified(raw)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", EnvIDToken, err)
	}
	return tok, nil
}

// fileToken reads o.TokenFile. The file is re-read on every call because
// workload identity systems rotate it.
func fileToken(_ context.Context, o *Options) (*IDToken, error) {
	f, err := os.Open(o.TokenFile)
	if err != nil {
		return nil, fmt.Errorf("reading token file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxTokenLen+1))
	if err != nil {
		return nil, fmt.Errorf("reading token file: %w", err)
	}
	if len(b) > maxTokenLen {
		return nil, fmt.Errorf("token file %s is larger than %d bytes", o.TokenFile, maxTokenLen)
	}
	raw := trimToken(string(b))
	if raw == "" {
		return nil, fmt.Errorf("%w: token file %s is empty", ErrNoToken, o.TokenFile)
	}
	tok, err := ParseUnverified(raw)
	if err != nil {
		return nil, fmt.Errorf("token file %s: %w", o.TokenFile, err)
	}
	return tok, nil
}

// trimToken removes the surrounding whitespace (usually a trailing newline)
// that files and shells add.
func trimToken(s string) string {
	return strings.TrimSpace(s)
}
