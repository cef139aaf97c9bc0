package config

// GitValue returns what the git config listing gitConfigZ (the output of
// `git config -z --list`, as [GitConfigList] returns it) gives key, a key
// of any section in any case: the last entry's value, as git does. bare is
// true for a key listed without "= value" (a boolean true); found is false
// when key is not listed. It is for the git settings gitsign depends on
// (gpg.format, commit.gpgsign), which are git's, not gitsign's.
func GitValue(gitConfigZ []byte, key string) (value string, bare, found bool) {
	k := lowerASCII(key)
	for _, e := range splitEntries(gitConfigZ) {
		if lowerASCII(e.key) == k {
			value, bare, found = e.value, e.bare, true
		}
	}
	return value, bare, found
}

// GitBool reads a git config value as git reads a boolean: true, yes, on,
// 1 and false, no, off, 0 in any case, the empty string false and a bare
// key true. ok is false for anything else.
func GitBool(value string, bare bool) (b, ok bool) {
	if bare {
		return true, true
	}
	return parseBool(value)
}
