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
//
// The socket is --socket, else $GITSIGN_CREDENTIAL_CACHE, else
// gitsign/cache.sock in the user's cache directory. SIGTERM or SIGINT
// stops the agent cleanly: the socket is removed and every credential
// forgotten.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/gitsign-dev/gitsign/cache"
)

// version is set with -ldflags "-X main.version=v1.2.3".
var version = "devel"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gitsign-credential-cache", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var showVersion, systemd, debug bool
	var socket string
	fs.BoolVar(&showVersion, "version", false, "print the version and exit")
	fs.BoolVar(&showVersion, "v", false, "same as --version")
	fs.BoolVar(&systemd, "systemd-socket-activation", false, "serve the socket systemd passes (LISTEN_FDS) instead of creating one")
	fs.StringVar(&socket, "socket", "", "socket path (default $GITSIGN_CREDENTIAL_CACHE, else gitsign/cache.sock in the user cache directory)")
	fs.BoolVar(&debug, "debug", false, "also log every credential handed out")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "gitsign-credential-cache: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if showVersion {
		fmt.Fprintf(stdout, "gitsign-credential-cache version %s\n", version)
		return 0
	}
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if err := harden(); err != nil {
		log.Warn("could not keep memory out of core dumps", "error", err)
	}

	l, err := listen(systemd, socket)
	if err != nil {
		fmt.Fprintf(stderr, "gitsign-credential-cache: error: %v\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	log.Info("listening", "socket", l.Addr().String(), "pid", os.Getpid())
	srv := &cache.Server{Store: cache.NewStore(nil), Log: log}
	err = srv.Serve(ctx, l)
	l.Close()
	srv.Store.Clear()
	if err != nil {
		log.Error("stopped", "error", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

func listen(systemd bool, socket string) (net.Listener, error) {
	if systemd {
		if socket != "" {
			return nil, errors.New("--socket and --systemd-socket-activation exclude each other: the .socket unit names the path")
		}
		return cache.SystemdListener()
	}
	if socket == "" {
		socket = os.Getenv("GITSIGN_CREDENTIAL_CACHE")
	}
	if socket == "" {
		p, err := cache.DefaultSocketPath()
		if err != nil {
			return nil, err
		}
		socket = p
	}
	return cache.Listen(socket)
}
