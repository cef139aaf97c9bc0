package cli

import (
	"os"

	"github.com/spf13/cobra"
)

// NewRootCommand returns gitsign's command tree, wired to the process's
// standard streams, as [Main] runs it. It is for tools that read the
// command definitions, such as the man page and completion generator
// (hack/gendocs); to run gitsign, call [Main], which also maps errors to
// exit codes.
func NewRootCommand() *cobra.Command {
	root := newRoot(streams{in: os.Stdin, out: os.Stdout, err: os.Stderr})
	prepare(root) // as run does
	return root
}
