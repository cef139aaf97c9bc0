package cache

import (
	"io"
	"log/slog"

	"github.com/gitsign-dev/gitsign/internal/syncbuf"
)

// newTestLogger logs text lines to w, safely from many goroutines.
func newTestLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(syncbuf.NewWriter(w), &slog.HandlerOptions{Level: slog.LevelDebug}))
}
