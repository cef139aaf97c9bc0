// Package contrib holds the service files that start gitsign's credential
// cache agent (systemd user units, a launchd agent), embedded so that
// `gitsign setup` installs exactly the files shipped here, with the
// agent's path filled in (package internal/setup).
package contrib

import "embed"

// Files are systemd/gitsign-credential-cache.{socket,service} and
// launchd/io.github.gitsign-dev.gitsign-credential-cache.plist.
//
//go:embed systemd/gitsign-credential-cache.socket systemd/gitsign-credential-cache.service launchd/io.github.gitsign-dev.gitsign-credential-cache.plist
var Files embed.FS

// Names of the embedded files, and the launchd agent's label (the plist's
// name without .plist, as launchd wants it).
const (
	SystemdSocket  = "systemd/gitsign-credential-cache.socket"
	SystemdService = "systemd/gitsign-credential-cache.service"
	LaunchdLabel   = "io.github.gitsign-dev.gitsign-credential-cache"
	LaunchdPlist   = "launchd/" + LaunchdLabel + ".plist"
)

// AgentPlaceholder is the agent's path in the shipped launchd plist,
// replaced by the real one when the plist is installed.
const AgentPlaceholder = "/path/to/gitsign-credential-cache"
