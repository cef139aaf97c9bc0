package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gitsign-dev/gitsign/internal/buildinfo"
	"github.com/gitsign-dev/gitsign/internal/config"
	"github.com/gitsign-dev/gitsign/internal/printable"
)

// newVersionCommand is `gitsign version [--json]`.
func newVersionCommand(s streams) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print gitsign's version, build and settings",
		Long: `Print gitsign's version, the commit and date it was built from, the Go and
sigstore-go versions it was built with and its platform, one "key: value" per
line; then every setting (gitsign.* git config keys and their GITSIGN_* and
SIGSTORE_* variables), its value and where the value comes from: gitsign's
default, a git config key, or an environment variable. A value that is
invalid, or a GITSIGN_*/SIGSTORE_* variable gitsign ignores, is marked.

Tokens and secrets (SIGSTORE_ID_TOKEN, and any other variable whose name says
TOKEN, SECRET or KEY) are never shown, only that they are set; paths of token,
secret and key files are. gitsign --version prints the build facts only (it
runs no git).`,
		Example: `  gitsign version
  gitsign version --json | jq -r .version`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return printVersion(cmd.Context(), s.out, asJSON, true)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object: the build facts and a \"settings\" array (fields: docs/json.md)")
	return cmd
}

// versionJSON is what `gitsign version --json` prints (docs/json.md).
type versionJSON struct {
	Schema int `json:"schema"` // jsonSchema
	buildinfo.Info
	Settings []config.Setting `json:"settings"`
	// SettingsError says why the settings could not be listed.
	SettingsError string `json:"settingsError,omitempty"`
}

// printVersion writes the build facts, and with withSettings the settings
// in effect, to w, as text or JSON. Failing to read git config is reported
// in the output, not as an error: the build facts are still worth having.
// Without withSettings it runs nothing (gitsign --version, which measures
// start-up in hack/bench, forks no git).
func printVersion(ctx context.Context, w io.Writer, asJSON, withSettings bool) error {
	if ctx == nil {
		ctx = context.Background()
	}
	info := buildinfo.Get()
	if !withSettings && !asJSON {
		return info.WriteText(w)
	}
	settings, err := config.Describe(ctx)
	if asJSON {
		v := versionJSON{Schema: jsonSchema, Info: info, Settings: settings}
		if err != nil {
			v.SettingsError = err.Error()
		}
		if v.Settings == nil {
			v.Settings = []config.Setting{}
		}
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(printable.JSON(append(b, '\n')))
		return err
	}
	var b strings.Builder
	info.WriteText(&b)
	if err != nil {
		fmt.Fprintf(&b, "settings: unavailable: %s\n", printable.String(err.Error()))
	} else {
		b.WriteString("settings:\n")
		for _, st := range settings {
			b.WriteString("  " + settingLine(st) + "\n")
		}
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// settingLine renders one setting as "name: value (origin)", e.g.
//
//	gitsign.rekor: https://rekor.example (environment GITSIGN_REKOR_URL)
//	SIGSTORE_ID_TOKEN: (set, not shown) (environment)
//	gitsign.rekorVersion: 3 (git config gitsign.rekorVersion; invalid value "3" ...)
func settingLine(st config.Setting) string {
	v := st.Value
	switch {
	case v == "":
		v = `""`
	case v != config.Hidden:
		v = printable.String(v)
	}
	origin := st.Origin
	if st.From != "" && st.From != st.Name {
		origin += " " + st.From
	}
	if st.Problem != "" {
		origin += "; " + printable.String(st.Problem)
	}
	return st.Name + ": " + v + " (" + origin + ")"
}
