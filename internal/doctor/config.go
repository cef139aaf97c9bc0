package doctor

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gitsign-dev/gitsign/internal/config"
)

// maxListed is how many problems a summary names before "and N more".
const maxListed = 3

// checkConfig looks for invalid values (fail: every signature fails) and
// misspelt or unknown keys and variables (warn: they are ignored). It
// also returns the configuration the other checks use: the one gitsign
// would run with, or, when a value is invalid, the one without the
// invalid values, so that the other checks still say something useful.
func checkConfig(o Options) (*config.Config, Check) {
	cfg := lenientParse(o)
	problems := config.Problems(o.GitConfig, o.Environ)
	if len(problems) == 0 {
		return cfg, check("config", OK, "every setting is valid")
	}
	status := Warn
	var lines, hints []string
	for _, p := range problems {
		switch p.Kind {
		case config.Invalid:
			status = Fail
			lines = append(lines, p.Message)
			hints = append(hints, whereSet(p.Name))
		case config.UnknownGitKey:
			lines = append(lines, "git config "+p.Name+" is not a gitsign setting: ignored")
			if p.Suggestion != "" {
				hints = append(hints, "did you mean "+p.Suggestion+"? (git config --show-origin --get-all "+p.Name+" shows where it is set)")
			} else {
				hints = append(hints, whereSet(p.Name))
			}
		case config.UnknownVariable:
			lines = append(lines, p.Name+" is not a gitsign setting: ignored")
			if p.Suggestion != "" {
				hints = append(hints, "did you mean "+p.Suggestion+"?")
			}
		}
	}
	summary := strings.Join(lines[:min(len(lines), maxListed)], "; ")
	if len(lines) > maxListed {
		summary += fmt.Sprintf("; and %d more", len(lines)-maxListed)
	}
	return cfg, check("config", status, summary, hints...)
}

// whereSet says how to find where a key or variable is set.
func whereSet(name string) string {
	if strings.HasPrefix(name, "GITSIGN_") || strings.HasPrefix(name, "SIGSTORE_") {
		return name + " is set in the environment: fix it, or unset it"
	}
	return "git config --show-origin --get-all " + name + " shows where it is set"
}

// lenientParse parses the settings as gitsign does, leaving out each
// invalid value in turn, so that it always returns a configuration.
func lenientParse(o Options) *config.Config {
	z := o.GitConfig
	env := slices.Clone(o.Environ)
	for range 64 { // more than there are settings
		lookup := Options{Environ: env}.lookupEnv
		cfg, err := config.Parse(z, lookup)
		var ce *config.Error
		if err == nil {
			return cfg
		}
		if !errors.As(err, &ce) {
			break
		}
		if _, set := lookup(ce.Key); set {
			env = slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, ce.Key+"=") })
		} else {
			z = withoutKey(z, ce.Key)
		}
	}
	return config.Default()
}

// withoutKey drops every entry of key (any case) from a `git config -z
// --list` listing.
func withoutKey(z []byte, key string) []byte {
	var out []byte
	for _, entry := range strings.SplitAfter(string(z), "\x00") {
		k, _, _ := strings.Cut(strings.TrimSuffix(entry, "\x00"), "\n")
		if !strings.EqualFold(k, key) {
			out = append(out, entry...)
		}
	}
	return out
}
