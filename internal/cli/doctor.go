package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gitsign-dev/gitsign/internal/config"
	"github.com/gitsign-dev/gitsign/internal/doctor"
	"github.com/gitsign-dev/gitsign/internal/printable"
)

// newDoctorCommand is `gitsign doctor [--offline] [--json]`.
func newDoctorCommand(s streams) *cobra.Command {
	var asJSON, offline bool
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Find what stands between you and a working gitsign setup",
		Long: `Check gitsign's setup where it runs and say what to fix: the settings
(invalid values, misspelt gitsign.* keys), git's wiring (gpg.format x509,
gpg.x509.program naming this gitsign, commit.gpgsign and tag.gpgsign), the
credential cache agent (running, and gitsign's rather than another
program's), the trust material (loadable, not expired or about to), the
OIDC issuer, Fulcio, Rekor and the timestamp authority (reachable, each
within 5 seconds, through HTTPS_PROXY when set) and the clock (against the
servers' time; certificates last 10 minutes).

Each check prints a line on stdout: ok, warn (signing works, but likely
not as you want), fail (signing or verification will fail) or skip (not
checked), what was found, and hint lines saying what to run or set. The
exit status is 0 when no check fails, warnings included, and 1 when one
does. --offline skips the checks that need the network.`,
		Example: `  gitsign doctor
  gitsign doctor --offline
  gitsign doctor --json | jq -r '.checks[] | select(.status != "ok") | .name'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDoctor(cmd, s, offline, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print one JSON object, {"schema":1,"ok":...,"checks":[...]}, a result per check (fields: docs/json.md)`)
	cmd.Flags().BoolVar(&offline, "offline", false, "skip the checks that need the network (services and clock)")
	return cmd
}

func runDoctor(cmd *cobra.Command, s streams, offline, asJSON bool) error {
	ctx, stop := signalContext()
	defer stop()
	gitConfig, err := config.GitConfigList(ctx)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	exe, _ := os.Executable()
	r := doctor.Run(ctx, doctor.Options{
		GitConfig:  gitConfig,
		Environ:    os.Environ(),
		Executable: exe,
		TUFCache:   tufCacheDir,
		Offline:    offline,
	})
	if asJSON {
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return err
		}
		if _, err := s.out.Write(printable.JSON(append(b, '\n'))); err != nil {
			return err
		}
	} else if err := r.WriteText(s.out); err != nil {
		return err
	}
	if failed := r.Failed(); len(failed) > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d of %d checks failed: %s", len(failed), len(r.Checks), strings.Join(failed, ", "))}
	}
	return nil
}
