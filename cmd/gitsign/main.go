// Command gitsign signs git commits and tags keylessly with Sigstore. git
// runs it as gpg.x509.program; see `gitsign --help`.
package main

import (
	"os"

	"github.com/gitsign-dev/gitsign/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}
