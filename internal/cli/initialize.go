package cli

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tuf"
	"github.com/spf13/cobra"

	"github.com/gitsign-dev/gitsign/internal/httpx"
	"github.com/gitsign-dev/gitsign/verify"
)

func newInitializeCommand(s streams) *cobra.Command {
	var mirror, rootFile string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "initialize",
		Short: "Refresh the cached Sigstore trust material from a TUF repository",
		Long: `Fetch the Sigstore trusted root through TUF (sigstore-go's client) and cache
it, so later verification uses it with no network. Without this, gitsign
verifies with the public-good root built into it. For a private Sigstore,
give its TUF mirror and initial root.json.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if timeout <= 0 {
				return usageError("--timeout must be greater than 0, got %s", timeout)
			}
			cfg, err := loadConfig(cmd.Context())
			if err != nil {
				return err
			}
			opts := tuf.DefaultOptions()
			// The cache verification reads (sigstore-go's own default,
			// ~/.sigstore/root, is not where its documentation says).
			if dir := tufCacheDir(cfg); dir != "" {
				opts.CachePath = dir
			}
			if mirror != "" {
				opts.RepositoryBaseURL = mirror
			}
			if rootFile != "" {
				b, err := os.ReadFile(rootFile)
				if err != nil {
					return fmt.Errorf("reading --root: %w", err)
				}
				opts.Root = b
			} else if mirror != "" && mirror != tuf.DefaultMirror {
				return usageError("--mirror %s needs --root: the initial root.json of that repository", mirror)
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			opts.Context = ctx
			type result struct {
				tr  *root.TrustedRoot
				err error
			}
			done := make(chan result, 1)
			msgs := openMessages("")
			defer msgs.Close()
			step := msgs.Step("fetching the trusted root from " + opts.RepositoryBaseURL)
			go func() {
				c, err := tuf.New(opts)
				if err != nil {
					done <- result{err: err}
					return
				}
				tr, err := root.GetTrustedRoot(c)
				done <- result{tr, err}
			}()
			select {
			case <-ctx.Done():
				err := fmt.Errorf("TUF repository %s did not answer within %s", opts.RepositoryBaseURL, timeout)
				step(err)
				return &exitError{code: 1, err: err, hints: []string{"give it longer with --timeout"}}
			case r := <-done:
				step(r.err)
				if r.err != nil {
					return tufError(opts.RepositoryBaseURL, r.err)
				}
			}
			if err := verify.RememberMirror(opts.CachePath, opts.RepositoryBaseURL); err != nil {
				return err
			}
			fmt.Fprintf(s.err, "gitsign: trust material from %s cached in %s\n", opts.RepositoryBaseURL, opts.CachePath)
			return nil
		},
	}
	cmd.Flags().StringVar(&mirror, "mirror", "", "TUF repository URL (default: the public-good Sigstore repository)")
	cmd.Flags().StringVar(&rootFile, "root", "", "initial root.json of the TUF repository (needed with --mirror)")
	cmd.Flags().DurationVar(&timeout, "timeout", 60*time.Second, "give up after this long")
	return cmd
}

// tufError says why the TUF mirror could not be read: a request that
// failed as an *httpx.Failure (one line, with hints), anything else with
// the mirror named.
func tufError(mirror string, err error) error {
	if f := httpx.Explain(httpx.TUF, "", err); f != err {
		return f
	}
	return fmt.Errorf("updating trust material from %s: %w", mirror, err)
}
