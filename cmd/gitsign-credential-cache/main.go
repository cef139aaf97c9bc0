// Command gitsign-credential-cache is gitsign's credential cache agent: it
// keeps the ephemeral keys and certificates gitsign gets at login in
// memory, each until its certificate expires, and hands them back to
// gitsign processes of the same user over a unix socket, so that many
// commits need one login. It never logs in itself. See package cache.
//
// Usage:
//
//	gitsign-credential-cache [--socket PATH] [--debug]
//	gitsign-credential-cache --systemd-socket-activation
//	gitsign-credential-cache --version | version [--json]
//
// The socket is --socket, else $GITSIGN_CREDENTIAL_CACHE, else
// gitsign/cache.sock in the user's cache directory. SIGTERM or SIGINT
// stops the agent cleanly: the socket is removed and every credential
// forgotten. The command line is package internal/agentcmd.
package main

import (
	"io"
	"os"

	"github.com/gitsign-dev/gitsign/internal/agentcmd"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	return agentcmd.Main(args, stdout, stderr)
}
