package config

import (
	"context"
	"os"
	"slices"
	"strings"

	"github.com/gitsign-dev/gitsign/internal/suggest"
)

// LoadChecked is [Load] that also lists the unknown gitsign.* keys (see
// [UnknownKeys]), which Load ignores, for a warning.
func LoadChecked(ctx context.Context) (*Config, []UnknownKey, error) {
	out, err := gitConfigList(ctx)
	if err != nil {
		return nil, nil, err
	}
	c, err := Parse(out, os.LookupEnv)
	if err != nil {
		return nil, nil, err
	}
	return c, UnknownKeys(out), nil
}

// GitConfigList runs `git config -z --list` as [Load] does and returns its
// output (nil outside a repository with no global config), for callers
// that look at more than gitsign's settings, such as `gitsign doctor`.
func GitConfigList(ctx context.Context) ([]byte, error) {
	return gitConfigList(ctx)
}

// acceptedKeys are gitsign.* keys of sigstore/gitsign that gitsign accepts
// and ignores: they are not typos.
var acceptedKeys = map[string]bool{"gitsign.enablesigstorego": true}

// An UnknownKey is a gitsign.* git config key that no setting reads: a
// typo, or a key of another gitsign's, which gitsign ignores.
type UnknownKey struct {
	// Key is the key as git lists it (section and name lowered by git).
	Key string
	// Suggestion is the documented key that Key most likely meant, e.g.
	// "gitsign.allowedSignersFile" for "gitsign.allowedsignerfile"; empty
	// when none is close.
	Suggestion string
}

// problemUnknown is the Problem of an unknown key or variable in Describe.
const problemUnknown = "not a gitsign setting: ignored"

// Problem says why an unknown key is not used, with its likely meaning.
func (u UnknownKey) Problem() string {
	if u.Suggestion == "" {
		return problemUnknown
	}
	return problemUnknown + "; did you mean " + u.Suggestion + "?"
}

// UnknownKeys lists, in the order git lists them and each once, the keys of
// the gitsign section in gitConfigZ (the output of `git config -z --list`)
// that no setting reads. Keys of other sections are not gitsign's business.
func UnknownKeys(gitConfigZ []byte) []UnknownKey {
	var out []UnknownKey
	seen := make(map[string]bool)
	for _, e := range splitEntries(gitConfigZ) {
		k := lowerASCII(e.key)
		if !strings.HasPrefix(k, "gitsign.") || seen[k] {
			continue
		}
		seen[k] = true
		if _, ok := settingByKey[k]; ok {
			continue
		}
		if _, ok := multiByKey[k]; ok || acceptedKeys[k] {
			continue
		}
		out = append(out, UnknownKey{Key: e.key, Suggestion: SuggestKey(k)})
	}
	return out
}

// SuggestKey returns the documented gitsign.* key that key (any case)
// most likely meant, or "" when none is close. It compares names without
// case, '-' and '_', against each key's own name and against its
// environment variables' names without GITSIGN_ or SIGSTORE_ (so
// gitsign.fulcioURL means gitsign.fulcio, as GITSIGN_FULCIO_URL does), and
// takes the nearest within a few edits.
func SuggestKey(key string) string {
	name, ok := strings.CutPrefix(lowerASCII(key), "gitsign.")
	if !ok {
		return ""
	}
	name = squash(name)
	best, bestDist := "", maxSuggestDistance(name)+1
	try := func(key, candidate string) {
		d := suggest.Distance(name, squash(candidate))
		if d < bestDist {
			best, bestDist = key, d
		}
	}
	for _, k := range knownKeys() {
		try(k.key, strings.TrimPrefix(k.key, "gitsign."))
		for _, env := range k.env {
			for _, prefix := range []string{"GITSIGN_", "SIGSTORE_"} {
				if rest, ok := strings.CutPrefix(env, prefix); ok {
					try(k.key, rest)
				}
			}
		}
	}
	return best
}

// SuggestVariable returns the variable gitsign reads that name (a
// GITSIGN_* or SIGSTORE_* variable it does not) most likely meant, or "".
func SuggestVariable(name string) string {
	n := squash(name)
	best, bestDist := "", maxSuggestDistance(n)+1
	var names []string
	for _, k := range knownKeys() {
		names = append(names, k.env...)
	}
	for _, v := range envOnly {
		names = append(names, v.name)
	}
	for _, candidate := range names {
		if d := suggest.Distance(n, squash(candidate)); d < bestDist {
			best, bestDist = candidate, d
		}
	}
	return best
}

// knownKey is a documented gitsign.* key and the variables that set it.
type knownKey struct {
	key string
	env []string
}

// knownKeys lists every gitsign.* key that a setting or a multi reads,
// in table order.
func knownKeys() []knownKey {
	var out []knownKey
	for _, s := range settings {
		if strings.HasPrefix(s.key, "gitsign.") {
			out = append(out, knownKey{s.key, s.env})
		}
	}
	for _, m := range multis {
		out = append(out, knownKey{key: m.key})
	}
	return out
}

// maxSuggestDistance is how many edits from name a suggestion may be: a
// third of its length, at least 1 and at most 3, so that a short word is
// not "corrected" into an unrelated one.
func maxSuggestDistance(name string) int {
	return min(max(len(name)/3, 1), 3)
}

// squash lowers ASCII letters and drops '-', '_' and '.', so that names
// in the git key and the variable styles compare.
func squash(s string) string {
	s = lowerASCII(s)
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' {
			return -1
		}
		return r
	}, s)
}

// unknownKeySettings describes the unknown gitsign.* keys in gitConfigZ
// for [DescribeFrom]: values hidden (a misspelt secret is still secret).
func unknownKeySettings(gitConfigZ []byte) []Setting {
	var out []Setting
	for _, u := range UnknownKeys(gitConfigZ) {
		out = append(out, Setting{Name: u.Key, Value: Hidden, Origin: OriginGitConfig, From: u.Key, Problem: u.Problem()})
	}
	return out
}

// A Problem is a setting gitsign cannot use as given, for `gitsign doctor`.
type Problem struct {
	Kind ProblemKind
	// Name is the git config key or environment variable.
	Name string
	// Message says what is wrong, in one line.
	Message string
	// Suggestion is the key or variable Name most likely meant (unknown
	// names only), or "".
	Suggestion string
}

// ProblemKind sorts problems by what they cost.
type ProblemKind int

const (
	// Invalid is a value that cannot be used: every signature fails.
	Invalid ProblemKind = iota
	// UnknownGitKey is a gitsign.* key that no setting reads: ignored.
	UnknownGitKey
	// UnknownVariable is a GITSIGN_* or SIGSTORE_* variable gitsign does
	// not read: ignored.
	UnknownVariable
)

// Problems lists what is wrong with the settings that gitConfigZ and
// environ give, as [DescribeFrom] sees them: invalid values first (in
// table order), then unknown git config keys, then unknown variables.
// Variables gitsign accepts and ignores on purpose are not problems.
func Problems(gitConfigZ []byte, environ []string) []Problem {
	var invalid, keys, vars []Problem
	for _, d := range DescribeFrom(gitConfigZ, environ) {
		if d.Problem == "" {
			continue
		}
		switch {
		case settingByKey[lowerASCII(d.Name)] != nil || multiByKey[lowerASCII(d.Name)] != nil:
			invalid = append(invalid, Problem{Kind: Invalid, Name: d.From, Message: d.Problem})
		case isEnvOnly(d.Name):
			// accepted and ignored on purpose
		case d.Origin == OriginGitConfig:
			keys = append(keys, Problem{Kind: UnknownGitKey, Name: d.Name, Message: problemUnknown, Suggestion: SuggestKey(d.Name)})
		default:
			vars = append(vars, Problem{Kind: UnknownVariable, Name: d.Name, Message: problemUnknown, Suggestion: SuggestVariable(d.Name)})
		}
	}
	return slices.Concat(invalid, keys, vars)
}

// isEnvOnly reports whether name is one of the variables gitsign reads
// that no git config key sets.
func isEnvOnly(name string) bool {
	for _, v := range envOnly {
		if v.name == name {
			return true
		}
	}
	return false
}
