package cli

import (
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gitsign-dev/gitsign/internal/gitrepo"
	"github.com/gitsign-dev/gitsign/internal/printable"
)

// shells are the shells `gitsign completion` writes scripts for, with how
// to install each script.
var shells = []struct {
	name, install string
	gen           func(root *cobra.Command, w io.Writer, desc bool) error
}{
	{"bash", `Needs the bash-completion package. For the current shell:
  source <(gitsign completion bash)
For every new shell:
  mkdir -p ~/.local/share/bash-completion/completions
  gitsign completion bash > ~/.local/share/bash-completion/completions/gitsign`,
		func(root *cobra.Command, w io.Writer, desc bool) error { return root.GenBashCompletionV2(w, desc) }},
	{"zsh", `If completion is not yet on in zsh, add "autoload -U compinit; compinit" to
~/.zshrc. Then, for every new shell:
  gitsign completion zsh > "${fpath[1]}/_gitsign"`,
		func(root *cobra.Command, w io.Writer, desc bool) error {
			if desc {
				return root.GenZshCompletion(w)
			}
			return root.GenZshCompletionNoDesc(w)
		}},
	{"fish", `For the current shell:
  gitsign completion fish | source
For every new shell:
  gitsign completion fish > ~/.config/fish/completions/gitsign.fish`,
		func(root *cobra.Command, w io.Writer, desc bool) error { return root.GenFishCompletion(w, desc) }},
	{"powershell", `For the current session:
  gitsign completion powershell | Out-String | Invoke-Expression
For every new session, add that line to your PowerShell profile ($PROFILE).`,
		func(root *cobra.Command, w io.Writer, desc bool) error {
			if desc {
				return root.GenPowerShellCompletionWithDesc(w)
			}
			return root.GenPowerShellCompletion(w)
		}},
}

// newCompletionCommand is `gitsign completion bash|zsh|fish|powershell`:
// cobra's script generators, one subcommand per shell.
func newCompletionCommand(s streams) *cobra.Command {
	var noDesc bool
	names := make([]string, len(shells))
	for i, sh := range shells {
		names[i] = sh.name
	}
	cmd := &cobra.Command{
		Use:   "completion SHELL",
		Short: "Write the shell completion script for bash, zsh, fish or powershell",
		Long: `Write to standard output a script that makes the shell complete gitsign's
subcommands and flags. See "gitsign completion SHELL --help" for how
to install it for each shell. Packages usually install these scripts for you.`,
		// The shells complete as the subcommands they are; no ValidArgs,
		// which would list each a second time.
		ValidArgsFunction: cobra.NoFileCompletions,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError("completion needs a shell: %s", strings.Join(names, ", "))
			}
			return usageError("unknown shell \"%s\": want one of %s", printable.String(args[0]), strings.Join(names, ", "))
		},
		RunE: func(*cobra.Command, []string) error { return nil }, // Args refuses every call
	}
	cmd.PersistentFlags().BoolVar(&noDesc, "no-descriptions", false, "leave the descriptions of commands and flags out of the completions")
	for _, sh := range shells {
		cmd.AddCommand(&cobra.Command{
			Use:               sh.name,
			Short:             "Write the completion script for " + sh.name,
			Long:              "Write the " + sh.name + " completion script for gitsign to standard output.\n\n" + sh.install,
			Args:              noArgs,
			ValidArgsFunction: cobra.NoFileCompletions,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return sh.gen(cmd.Root(), s.out, !noDesc)
			},
		})
	}
	return cmd
}

// noArgs refuses arguments as a mistake in the command line (exit 2).
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) != 0 {
		return usageError("%s takes no arguments, got %s", cmd.CommandPath(), quoteAll(args))
	}
	return nil
}

// completeRevisions completes the arguments of verify and show with the
// repository's branches, tags and remote-tracking branches (git's short
// names), never file names; tagsOnly, for verify-tag, with tag names.
func completeRevisions(tagsOnly bool) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		patterns := []string{"refs/heads/", "refs/tags/", "refs/remotes/"}
		format := "%(refname:short)"
		if tagsOnly {
			patterns, format = []string{"refs/tags/"}, "%(refname:strip=2)"
		}
		out, err := gitrepo.Git(cmd.Context(), nil, append([]string{"for-each-ref", "--format=" + format, "--"}, patterns...)...)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var names []cobra.Completion
		for _, n := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if n != "" && strings.HasPrefix(n, toComplete) {
				names = append(names, n)
			}
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}
