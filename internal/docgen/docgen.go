// Package docgen writes gitsign's man pages and shell completion scripts
// from the command definitions themselves (internal/cli and
// internal/agentcmd), so that they cannot drift from --help. hack/gendocs
// runs it for `make man` and `make completions`.
package docgen

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"

	"github.com/gitsign-dev/gitsign/internal/agentcmd"
	"github.com/gitsign-dev/gitsign/internal/cli"
)

// FixedDate is the man page date when neither SOURCE_DATE_EPOCH nor git
// gives one.
var FixedDate = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// Commands returns fresh command trees for gitsign and
// gitsign-credential-cache, in that order.
func Commands() []*cobra.Command {
	return []*cobra.Command{cli.NewRootCommand(), agentcmd.NewCommand(os.Stdout, os.Stderr)}
}

// Man writes one man page (section 1) per command, subcommands included,
// to dir: gitsign.1, gitsign-verify.1, ..., gitsign-credential-cache.1,
// with the sections a command definition does not hold (sections.go:
// CONFIGURATION, ENVIRONMENT, FILES, EXIT STATUS), and the allowed-signers
// file format, gitsign-allowed-signers.5. date is the date in every
// page's header; source, if not empty, names the release (e.g. "v1.2.3").
func Man(dir string, date time.Time, source string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	src := "gitsign"
	if source != "" {
		src += " " + source
	}
	date = date.UTC()
	for _, root := range Commands() {
		prepare(root)
		header := &doc.GenManHeader{Section: "1", Date: &date, Source: src, Manual: "gitsign manual"}
		if err := doc.GenManTree(root, header, dir); err != nil {
			return fmt.Errorf("man pages for %s: %w", root.Name(), err)
		}
	}
	if err := addSections(dir); err != nil {
		return fmt.Errorf("man page sections: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, AllowedSignersName), []byte(allowedSignersPage(date, src)), 0o644)
}

// prepare readies a command tree for cobra/doc: no "Auto generated"
// footer (it carries a date of its own), and help texts written for a
// terminal turned into Markdown that says the same.
func prepare(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.DisableAutoGenTag = true
		c.Long = markdown(c.Long)
		c.Short = escapeMarkdown(c.Short)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	escapeFlags(root, make(map[*pflag.Flag]bool))
}

// Shells are the shells Completions writes scripts for, by file suffix.
var Shells = []struct {
	Suffix string
	Gen    func(root *cobra.Command, w io.Writer) error
}{
	{"bash", func(root *cobra.Command, w io.Writer) error { return root.GenBashCompletionV2(w, true) }},
	{"zsh", func(root *cobra.Command, w io.Writer) error { return root.GenZshCompletion(w) }},
	{"fish", func(root *cobra.Command, w io.Writer) error { return root.GenFishCompletion(w, true) }},
	{"ps1", func(root *cobra.Command, w io.Writer) error { return root.GenPowerShellCompletionWithDesc(w) }},
}

// Completions writes NAME.bash, NAME.zsh, NAME.fish and NAME.ps1 to dir
// for gitsign and gitsign-credential-cache: the scripts `gitsign
// completion SHELL` prints.
func Completions(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, root := range Commands() {
		for _, sh := range Shells {
			path := filepath.Join(dir, root.Name()+"."+sh.Suffix)
			f, err := os.Create(path)
			if err != nil {
				return err
			}
			err = sh.Gen(root, f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("writing %s: %w", path, err)
			}
		}
	}
	return nil
}

// Date returns the date for the man pages, stable for reproducible builds:
// SOURCE_DATE_EPOCH (from lookupEnv) if set, else the date of the last
// commit in the git work tree at dir, else FixedDate.
func Date(ctx context.Context, lookupEnv func(string) (string, bool), dir string) (time.Time, error) {
	if v, ok := lookupEnv("SOURCE_DATE_EPOCH"); ok && v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q is not a number of seconds", v)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	cmd := exec.CommandContext(ctx, "git", "log", "-1", "--format=%ct")
	cmd.Dir = dir
	if out, err := cmd.Output(); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil {
			return time.Unix(n, 0).UTC(), nil
		}
	}
	return FixedDate, nil
}
