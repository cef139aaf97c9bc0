package cache

import (
	"fmt"
	"os"
	"path/filepath"
)

// DefaultSocketPath is where the agent listens and gitsign looks for it
// when GITSIGN_CREDENTIAL_CACHE (gitsign.credentialCache) is not set:
// gitsign/cache.sock under the user's cache directory (on Linux
// $XDG_CACHE_HOME or ~/.cache, the %C of a systemd user unit).
func DefaultSocketPath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("cache: finding the default socket: %w", err)
	}
	return filepath.Join(dir, "gitsign", "cache.sock"), nil
}
