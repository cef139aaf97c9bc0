package setup

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/gitsign-dev/gitsign/contrib"
)

// Unit names of the agent's systemd user units.
const (
	socketUnit  = "gitsign-credential-cache.socket"
	serviceUnit = "gitsign-credential-cache.service"
)

// systemdSocket is the socket unit as shipped in contrib/systemd.
func systemdSocket() []byte {
	b, err := contrib.Files.ReadFile(contrib.SystemdSocket)
	if err != nil {
		panic(err) // embedded: present at build time
	}
	return b
}

// systemdService is the service unit shipped in contrib/systemd with its
// ExecStart naming the agent at agent (an absolute path).
func systemdService(agent string) ([]byte, error) {
	b, err := contrib.Files.ReadFile(contrib.SystemdService)
	if err != nil {
		panic(err)
	}
	if strings.ContainsAny(agent, "\n\r\x00") {
		return nil, fmt.Errorf("setup: the agent's path %q cannot be written into a systemd unit", agent)
	}
	lines := bytes.Split(b, []byte("\n"))
	done := false
	for i, l := range lines {
		cmd, ok := bytes.CutPrefix(l, []byte("ExecStart="))
		if !ok {
			continue
		}
		_, args, _ := bytes.Cut(cmd, []byte(" "))
		lines[i] = []byte("ExecStart=" + systemdWord(agent) + " " + string(args))
		done = true
	}
	if !done {
		panic("contrib/systemd: the service unit has no ExecStart line")
	}
	return bytes.Join(lines, []byte("\n")), nil
}

// systemdWord writes s as one word of a systemd command line: % and $
// doubled (no specifier or variable is expanded), and double-quoted, with
// \ and " escaped, when it holds a space, tab, quote or backslash.
func systemdWord(s string) string {
	s = strings.NewReplacer("%", "%%", "$", "$$").Replace(s)
	if strings.ContainsAny(s, " \t\"'\\;") {
		s = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
	}
	return s
}

// launchdPlist is the launchd agent shipped in contrib/launchd with its
// program the agent at agent.
func launchdPlist(agent string) ([]byte, error) {
	b, err := contrib.Files.ReadFile(contrib.LaunchdPlist)
	if err != nil {
		panic(err)
	}
	var esc strings.Builder
	if err := xml.EscapeText(&esc, []byte(agent)); err != nil || strings.ContainsAny(agent, "\x00") {
		return nil, fmt.Errorf("setup: the agent's path %q cannot be written into a launchd plist", agent)
	}
	placeholder := []byte("<string>" + contrib.AgentPlaceholder + "</string>")
	if bytes.Count(b, placeholder) != 1 {
		panic("contrib/launchd: the plist does not name " + contrib.AgentPlaceholder + " once")
	}
	return bytes.Replace(b, placeholder, []byte("<string>"+esc.String()+"</string>"), 1), nil
}
