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
	return parseStatic(readEnvToken(o))
}

// fileToken reads o.TokenFile. The file is re-read on every call because
// workload identity systems rotate it.
func fileToken(_ context.Context, o *Options) (*IDToken, error) {
	return parseStatic(readTokenFile(o))
}

// parseStatic parses a token readEnvToken or readTokenFile returned,
// naming where it came from when it is no token.
func parseStatic(raw, where string, err error) (*IDToken, error) {
	if err != nil {
		return nil, err
	}
	tok, err := ParseUnverified(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return tok, nil
}

// readEnvToken returns the token in SIGSTORE_ID_TOKEN, and how to name
// its source in an error about its content.
func readEnvToken(o *Options) (raw, where string, err error) {
	v, ok := o.LookupEnv(EnvIDToken)
	raw = trimToken(v)
	if !ok || raw == "" {
		return "", "", fmt.Errorf("%w: %s is not set", ErrNoToken, EnvIDToken)
	}
	return raw, "reading " + EnvIDToken, nil
}

// readTokenFile returns the token in o.TokenFile, and how to name its
// source in an error about its content.
func readTokenFile(o *Options) (raw, where string, err error) {
	f, err := os.Open(o.TokenFile)
	if err != nil {
		return "", "", fmt.Errorf("reading token file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxTokenLen+1))
	if err != nil {
		return "", "", fmt.Errorf("reading token file: %w", err)
	}
	if len(b) > maxTokenLen {
		return "", "", fmt.Errorf("token file %s is larger than %d bytes", o.TokenFile, maxTokenLen)
	}
	raw = trimToken(string(b))
	if raw == "" {
		return "", "", fmt.Errorf("%w: token file %s is empty", ErrNoToken, o.TokenFile)
	}
	return raw, "token file " + o.TokenFile, nil
}

// trimToken removes the surrounding whitespace (usually a trailing newline)
// that files and shells add.
func trimToken(s string) string {
	return strings.TrimSpace(s)
}
