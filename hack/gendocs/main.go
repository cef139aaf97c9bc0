// Command gendocs writes gitsign's man pages and shell completion scripts
// from the command definitions, and the configuration reference from
// internal/config's settings table (package internal/docgen):
//
//	go run ./hack/gendocs -man build/man -completions build/completions [-version v1.2.3]
//	go run ./hack/gendocs -config-md docs/configuration.md
//
// The man page date is SOURCE_DATE_EPOCH if set, else the last commit's
// date, else a fixed date, so that the same tree gives the same pages.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/gitsign-dev/gitsign/internal/docgen"
)

func main() {
	man := flag.String("man", "", "write the man pages (section 1) to this `directory`")
	completions := flag.String("completions", "", "write the bash, zsh, fish and PowerShell completion scripts to this `directory`")
	version := flag.String("version", "", "the release the man pages describe, e.g. v1.2.3 (shown in their footer)")
	configMD := flag.String("config-md", "", "write the configuration reference (Markdown) to this `file`")
	flag.Parse()
	if flag.NArg() != 0 || *man == "" && *completions == "" && *configMD == "" {
		fmt.Fprintln(os.Stderr, "usage: gendocs [-man DIR] [-completions DIR] [-version VERSION] [-config-md FILE]")
		os.Exit(2)
	}
	if *configMD != "" {
		if err := os.WriteFile(*configMD, []byte(docgen.ConfigMarkdown()), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "gendocs: %v\n", err)
			os.Exit(1)
		}
	}
	if err := run(*man, *completions, *version); err != nil {
		fmt.Fprintf(os.Stderr, "gendocs: %v\n", err)
		os.Exit(1)
	}
}

func run(man, completions, version string) error {
	if man != "" {
		date, err := docgen.Date(context.Background(), os.LookupEnv, ".")
		if err != nil {
			return err
		}
		if err := docgen.Man(man, date, version); err != nil {
			return err
		}
	}
	if completions != "" {
		return docgen.Completions(completions)
	}
	return nil
}
