// Command gitsign-credential-cache will keep gitsign's ephemeral keys and
// certificates in memory so many commits need one login. This build only
// reports its version: the agent is not implemented yet.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) == 2 && (os.Args[1] == "--version" || os.Args[1] == "-v") {
		fmt.Println("gitsign-credential-cache version devel")
		return
	}
	fmt.Fprintln(os.Stderr, "gitsign-credential-cache: the credential cache agent is not implemented in this build yet")
	os.Exit(1)
}
