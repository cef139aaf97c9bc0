package config

import "bytes"

// Parse builds a Config from the raw output of `git config -z --list` and
// an environment lookup such as [os.LookupEnv]; a nil lookupEnv means an
// empty environment.
//
// The precedence is default < git config < SIGSTORE_* < GITSIGN_*. A
// variable that is set but empty still overrides: a string setting
// becomes empty and a boolean becomes false. Git config keys match in any
// ASCII case; for a single-valued key the last entry wins, while the four
// gitsign.certificate* policy keys keep every value in order.
//
// Booleans take git's words in any case: true, yes, on, 1 and false, no,
// off, 0; the empty string is false and a bare git config key (listed
// without a value) is true. A bare key for any other setting is an error.
//
// Every value that takes effect is validated. The first one that is
// invalid is returned as an [*Error]; Parse then returns a nil Config.
// Settings are checked in a fixed order, so the same input always reports
// the same error.
func Parse(gitConfigZ []byte, lookupEnv func(string) (string, bool)) (*Config, error) {
	if lookupEnv == nil {
		lookupEnv = func(string) (string, bool) { return "", false }
	}
	c := Default()

	// The last git config entry for each single-valued key, by lowered key.
	last := make(map[string]source)
	for _, e := range splitEntries(gitConfigZ) {
		k := lowerASCII(e.key)
		if m, ok := multiByKey[k]; ok {
			if e.bare {
				return nil, missingValue(m.key)
			}
			p := m.field(c)
			*p = append(*p, e.value)
			continue
		}
		if s, ok := settingByKey[k]; ok {
			last[k] = source{name: s.key, value: e.value, bare: e.bare}
		}
	}

	rekorSet := false
	for _, s := range settings {
		src, ok := s.pick(last, lookupEnv)
		if !ok {
			continue
		}
		if err := s.set(c, src); err != nil {
			return nil, err
		}
		if s.key == keyRekor {
			rekorSet = true
		}
	}
	for _, s := range envSettings {
		if src, ok := s.pick(nil, lookupEnv); ok {
			if err := s.set(c, src); err != nil {
				return nil, err
			}
		}
	}
	// Rekor v2 is a different log; the v1 URL is never a right default for it.
	if c.RekorVersion == 2 && !rekorSet {
		c.Rekor = defaultRekorV2
	}
	return c, nil
}

// pick returns the source that takes effect for s: its last git config
// entry in last (keyed by lowered key), overridden by each of its
// environment variables that is set, in order; ok is false when none is.
func (s *setting) pick(last map[string]source, lookupEnv func(string) (string, bool)) (src source, ok bool) {
	src, ok = last[lowerASCII(s.key)]
	for _, name := range s.env {
		if v, set := lookupEnv(name); set {
			src, ok = source{name: name, value: v}, true
		}
	}
	return src, ok
}

var (
	settingByKey = make(map[string]*setting, len(settings))
	multiByKey   = make(map[string]*multi, len(multis))
)

func init() {
	for i := range settings {
		settingByKey[lowerASCII(settings[i].key)] = &settings[i]
	}
	for i := range multis {
		multiByKey[lowerASCII(multis[i].key)] = &multis[i]
	}
}

// An entry is one git config entry from `git config -z --list`.
type entry struct {
	key, value string
	bare       bool // listed without a value: a boolean true
}

// splitEntries splits `git config -z --list` output. Each entry ends with
// a NUL and is either "key\nvalue" or, for a key given without "= value",
// just "key". Keys never contain a newline, so the first newline ends the
// key and the value may contain any further newlines. Empty entries are
// skipped, and a last entry missing its NUL is still used.
func splitEntries(b []byte) []entry {
	var out []entry
	for len(b) > 0 {
		chunk := b
		if i := bytes.IndexByte(b, 0); i >= 0 {
			chunk, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if len(chunk) == 0 {
			continue
		}
		if k, v, ok := bytes.Cut(chunk, []byte{'\n'}); ok {
			out = append(out, entry{key: string(k), value: string(v)})
		} else {
			out = append(out, entry{key: string(chunk), bare: true})
		}
	}
	return out
}
