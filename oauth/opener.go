package oauth

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/gitsign-dev/gitsign/internal/syncbuf"
	"github.com/pkg/browser"
)

// splitCommand splits s into words the way a POSIX shell would for a
// simple command without expansions, except that backslashes are always
// literal (so `"C:\Program Files\x.exe"` keeps its backslashes, as in
// sigstore/gitsign):
//
//   - unquoted ASCII whitespace separates words;
//   - '...' and "..." group everything up to the matching quote, so a
//     quote of one kind is an ordinary character inside the other;
//   - quoted and unquoted runs that touch form one word, and an empty
//     pair of quotes on its own is an empty word;
//   - an unterminated quote is an error.
func splitCommand(s string) ([]string, error) {
	var (
		words   []string
		cur     strings.Builder
		inWord  bool // cur holds a word, possibly empty ("")
		quote   byte // 0, '\'' or '"'
		quoteAt int
	)
	// Bytes, not runes: every delimiter is ASCII, and other bytes (even
	// invalid UTF-8) must pass through unchanged.
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case quote != 0:
			if b == quote {
				quote = 0
			} else {
				cur.WriteByte(b)
			}
		case b == '\'' || b == '"':
			quote, quoteAt, inWord = b, i, true
		case isSpace(b):
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(b)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote at offset %d", quote, quoteAt)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

func isSpace(b byte) bool {
	switch b {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}

// renderOpener turns an URLOpener template into argv for url. Each word is
// a text/template executed with {{.URL}}; no shell is involved, so the URL
// can never be interpreted as shell syntax.
func renderOpener(command, url string) ([]string, error) {
	if strings.ContainsAny(command, "\r\n") {
		return nil, errors.New("URL opener must be a single line")
	}
	if !strings.Contains(command, "{{") {
		return nil, errors.New("URL opener must reference the login URL as {{.URL}}")
	}
	words, err := splitCommand(command)
	if err != nil {
		return nil, fmt.Errorf("URL opener: %w", err)
	}
	if len(words) == 0 {
		return nil, errors.New("URL opener is empty")
	}
	data := struct{ URL string }{URL: url}
	argv := make([]string, len(words))
	for i, w := range words {
		t, err := template.New("opener").Option("missingkey=error").Parse(w)
		if err != nil {
			return nil, fmt.Errorf("URL opener word %d: %w", i+1, err)
		}
		var b strings.Builder
		if err := t.Execute(&b, data); err != nil {
			return nil, fmt.Errorf("URL opener word %d: %w", i+1, err)
		}
		argv[i] = b.String()
	}
	if argv[0] == "" {
		return nil, errors.New("URL opener has an empty program name")
	}
	return argv, nil
}

// browserOutput receives everything pkg/browser's commands print. It
// forwards to the terminal of the login in progress and discards output
// that arrives later (a browser launched by xdg-open may keep talking).
var (
	browserOutput     = syncbuf.NewWriter(io.Discard)
	browserOutputOnce sync.Once
)

// browserError words pkg/browser's failure to find any opener (on Linux
// `exec: "xdg-open,x-www-browser,www-browser": executable file not
// found in $PATH`) for a person.
func browserError(err error) error {
	if errors.Is(err, exec.ErrNotFound) {
		return errors.New("no program to open a browser with was found (xdg-open, x-www-browser or www-browser on Linux): install xdg-utils, or set gitsign.urlOpener (GITSIGN_URL_OPENER)")
	}
	return err
}

// openURL starts the opener for url and returns a channel that receives
// its outcome (nil on success) exactly once, and a function to call when
// the login ends. Output goes to term, never to our stdout.
//
// The opener is not killed when the login ends: it may be the user's
// browser. Its goroutine ends when the opener exits (for URLOpener, at
// most a second later if a child it spawned keeps the output open; for
// pkg/browser, which waits for its output, when that child exits).
func openURL(command, url string, term io.Writer) (<-chan error, func()) {
	done := make(chan error, 1)
	if command == "" {
		browserOutputOnce.Do(func() {
			browser.Stdout, browser.Stderr = browserOutput, browserOutput
		})
		browserOutput.Swap(term)
		go func() { done <- browserError(browser.OpenURL(url)) }()
		return done, func() { browserOutput.Swap(io.Discard) }
	}
	argv, err := renderOpener(command, url)
	if err != nil {
		done <- err
		return done, func() {}
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	// A terminal that is a file is handed to the child as is, so no pipe
	// is left open by a long-lived browser.
	out := term
	if lw, ok := term.(*syncbuf.Writer); ok {
		if f, ok := lw.Target().(*os.File); ok {
			out = f
		}
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		done <- fmt.Errorf("starting URL opener: %w", err)
		return done, func() {}
	}
	go func() {
		if err := cmd.Wait(); err != nil {
			done <- fmt.Errorf("URL opener %s: %w", argv[0], err)
			return
		}
		done <- nil
	}()
	return done, func() {}
}
