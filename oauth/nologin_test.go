package oauth

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoLoginWithoutTerminal: with no token to use, no browser and no
// terminal to show a device code on, the automatic choice fails at once,
// saying so, and tells the person nothing it would have to read.
func TestNoLoginWithoutTerminal(t *testing.T) {
	env := func(vars map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	}
	noFile := filepath.Join(t.TempDir(), "no-token")
	var notices []Notice
	_, err := Get(context.Background(), Options{
		NoTerminal: true, TokenFile: noFile, LookupEnv: env(nil),
		Issuer: "http://127.0.0.1:1", ClientID: "sigstore",
		Notify: func(n Notice) { notices = append(notices, n) },
	})
	var nl *NoLoginError
	if !errors.As(err, &nl) || !strings.HasPrefix(err.Error(), "no identity token: SIGSTORE_ID_TOKEN is not set and there is no terminal to log in on") {
		t.Fatalf("err = %v, want a NoLoginError", err)
	}
	if len(notices) != 0 {
		t.Errorf("notices %v before the error", notices)
	}

	// Asked for by name, or with a browser, or with a terminal, the login
	// is tried: here it fails at the unreachable issuer instead.
	for name, o := range map[string]Options{
		"device by name": {Provider: ProviderDevice, NoTerminal: true, LookupEnv: env(nil)},
		"a display":      {NoTerminal: true, LookupEnv: env(map[string]string{"DISPLAY": ":0"})},
		"a terminal":     {LookupEnv: env(nil)},
	} {
		o.TokenFile, o.Issuer, o.ClientID, o.Timeout = noFile, "http://127.0.0.1:1", "sigstore", 1e9
		if _, err := Get(context.Background(), o); err == nil || errors.As(err, &nl) {
			t.Errorf("%s: err = %v, want the login tried", name, err)
		}
	}
}
