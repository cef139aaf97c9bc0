// Package agentcmd is the command line of gitsign-credential-cache,
// gitsign's credential cache agent: it keeps the ephemeral keys and
// certificates gitsign gets at login in memory, each until its certificate
// expires, and hands them back to gitsign processes of the same user over
// a unix socket, so that many commits need one login. The agent itself is
// package cache; this package parses the command line, serves, and stops
// cleanly on SIGTERM or SIGINT.
//
// It is a package rather than part of cmd/gitsign-credential-cache so that
// the man page and completion generator (hack/gendocs) can import
// [NewCommand].
package agentcmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/gitsign-dev/gitsign/cache"
	"github.com/gitsign-dev/gitsign/internal/buildinfo"
	"github.com/gitsign-dev/gitsign/internal/config"
)

// Name is the agent's program name.
const Name = "gitsign-credential-cache"

// exitError carries an exit code through cobra: 2 for a mistake in the
// command line, 1 for anything else.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

type options struct {
	socket                      string
	systemd, debug, showVersion bool
}

// Main runs the agent with args (without the program name) and returns
// its exit code: 0 after a clean stop, --help or --version; 2 for a
// mistake in the command line; 1 if the agent cannot listen or stops on
// an error. Errors are one line on stderr; the agent's log goes there too.
func Main(args []string, stdout, stderr io.Writer) int {
	cmd := NewCommand(stdout, stderr)
	cmd.SetArgs(args)
	err := cmd.Execute()
	if err == nil {
		return 0
	}
	if !errors.Is(err, errReported) {
		fmt.Fprintf(stderr, "%s: error: %v\n", Name, err)
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

// NewCommand returns the agent's command tree, writing to stdout and
// stderr.
func NewCommand(stdout, stderr io.Writer) *cobra.Command {
	o := &options{}
	cmd := &cobra.Command{
		Use:   Name + " [flags]",
		Short: "gitsign's credential cache agent",
		Long: Name + ` keeps the ephemeral keys and certificates gitsign gets at login in
memory, each until its certificate expires, and hands them back to gitsign
processes of the same user over a unix socket, so that many commits need one
login. It never logs in itself and never touches the network.

The socket is --socket, else $GITSIGN_CREDENTIAL_CACHE, else
gitsign/cache.sock in the user's cache directory (~/.cache/gitsign/cache.sock
on Linux). Its directory is created 0700 and the socket 0600; other users are
refused. With --systemd-socket-activation the agent serves the socket systemd
passes it instead (see contrib/systemd).

SIGTERM or SIGINT stops the agent cleanly: the socket is removed and every
credential forgotten.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 0 {
				return &exitError{code: 2, err: fmt.Errorf("unexpected arguments %q", args)}
			}
			return nil
		},
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.showVersion {
				return buildinfo.Get().WriteText(stdout)
			}
			return o.serve(stderr)
		},
	}
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{code: 2, err: err} })
	f := cmd.Flags()
	f.StringVar(&o.socket, "socket", "", "socket `PATH` (default $GITSIGN_CREDENTIAL_CACHE, else gitsign/cache.sock in the user cache directory)")
	f.BoolVar(&o.debug, "debug", false, "also log every credential handed out")
	f.BoolVar(&o.systemd, "systemd-socket-activation", false, "serve the socket systemd passes (LISTEN_FDS) instead of creating one")
	f.BoolVarP(&o.showVersion, "version", "v", false, "print the version and build facts, and exit")
	cmd.AddCommand(newVersionCommand(stdout))
	cmd.CompletionOptions.DisableDefaultCmd = true
	return cmd
}

func newVersionCommand(stdout io.Writer) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version and build facts",
		Long: `Print the agent's version, the commit and date it was built from, the Go
version and the sigstore-go version it was built with, one "key: value" per
line, or as a JSON object with --json.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 0 {
				return &exitError{code: 2, err: fmt.Errorf("version takes no arguments, got %q", args)}
			}
			return nil
		},
		RunE: func(*cobra.Command, []string) error {
			if !asJSON {
				return buildinfo.Get().WriteText(stdout)
			}
			b, err := json.MarshalIndent(buildinfo.Get(), "", "  ")
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(stdout, "%s\n", b)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON object")
	return cmd
}

func (o *options) serve(stderr io.Writer) error {
	level := slog.LevelInfo
	if o.debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if err := harden(); err != nil {
		log.Warn("could not keep memory out of core dumps", "error", err)
	}

	l, err := listen(o.systemd, o.socket)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	log.Info("listening", "socket", l.Addr().String(), "pid", os.Getpid())
	store := cache.NewStore(nil)
	srv := &cache.Server{Agent: store, Log: log}
	err = srv.Serve(ctx, l)
	l.Close()
	store.Clear()
	if err != nil {
		log.Error("stopped", "error", err)
		return &exitError{code: 1, err: errReported}
	}
	log.Info("stopped")
	return nil
}

// errReported means the error is already in the log.
var errReported = errors.New("reported")

func listen(systemd bool, socket string) (net.Listener, error) {
	if systemd {
		if socket != "" {
			return nil, errors.New("--socket and --systemd-socket-activation exclude each other: the .socket unit names the path")
		}
		return cache.SystemdListener()
	}
	if socket == "" {
		socket = config.AgentSocket(os.LookupEnv)
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
