package cli

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/gitsign-dev/gitsign/internal/config"
	"github.com/gitsign-dev/gitsign/internal/printable"
)

// unknownKeysWarned keeps the unknown-key warning to once per process.
var unknownKeysWarned atomic.Bool

// loadConfigKeys is loadConfig that also returns the gitsign.* git config
// keys no setting reads, for warnUnknownKeys.
func loadConfigKeys(ctx context.Context) (*config.Config, []config.UnknownKey, error) {
	cfg, keys, err := config.LoadChecked(ctx)
	if err != nil {
		return nil, nil, &exitError{code: 2, err: err}
	}
	return cfg, keys, nil
}

// loadConfigWarning is loadConfig that warns on w of the gitsign.* git
// config keys no setting reads (warnUnknownKeys).
func loadConfigWarning(ctx context.Context, w io.Writer) (*config.Config, error) {
	cfg, keys, err := loadConfigKeys(ctx)
	if err != nil {
		return nil, err
	}
	warnUnknownKeys(keys, lineWriter(w, "warning: "), lineWriter(w, "hint: "))
	return cfg, nil
}

// warnUnknownKeys says, once per process, that each of keys is ignored,
// with the key it most likely meant: a misspelt key leaves its setting at
// the default, which is seldom what the person wanted. warnf and hintf
// write a warning and a hint line (as tty.Messages's Warnf and Hintf do).
func warnUnknownKeys(keys []config.UnknownKey, warnf, hintf func(format string, args ...any)) {
	if len(keys) == 0 || !unknownKeysWarned.CompareAndSwap(false, true) {
		return
	}
	for _, k := range keys {
		warnf("git config %s is not a gitsign setting: ignored", k.Key)
		if k.Suggestion != "" {
			hintf("did you mean %s?", k.Suggestion)
		}
	}
}

// lineWriter writes "gitsign: " + kind + the message, escaped, as one
// line on w.
func lineWriter(w io.Writer, kind string) func(format string, args ...any) {
	return func(format string, args ...any) {
		fmt.Fprintf(w, "gitsign: %s%s\n", kind, printable.String(fmt.Sprintf(format, args...)))
	}
}
