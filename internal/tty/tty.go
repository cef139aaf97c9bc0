// Package tty carries gitsign's messages to the person: progress and
// results go to the terminal (/dev/tty) when there is one, since standard
// output belongs to git; errors go to standard error, and also to the
// terminal when standard error is not one (git captures it). Everything is also appended to the log file named by
// GITSIGN_LOG (gitsign.logPath), when set.
package tty

import (
	"fmt"
	"io"
	"os"
	"sync"
)

// Messages writes human-readable lines.
type Messages struct {
	mu    sync.Mutex
	term  io.Writer // progress and results
	errs  io.Writer // errors
	log   io.Writer // optional copy of everything
	close []io.Closer
}

// Open returns Messages for this process. logPath, if not empty, is opened
// for appending (created 0600); an unwritable log is reported once on
// standard error and otherwise ignored.
func Open(logPath string) *Messages {
	m := &Messages{term: os.Stderr, errs: os.Stderr}
	if f, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		m.term = f
		m.close = append(m.close, f)
		if !isTerminal(os.Stderr) {
			// git captures our stderr while signing and older versions
			// never show it, so the person sees errors on the terminal.
			m.errs = io.MultiWriter(os.Stderr, f)
		}
	}
	if logPath != "" {
		f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			fmt.Fprintf(os.Stderr, "gitsign: warning: cannot write log %s: %v\n", logPath, err)
		} else {
			m.log = f
			m.close = append(m.close, f)
		}
	}
	return m
}

// New returns Messages writing to the given writers (tests); log may be nil.
func New(term, errs, log io.Writer) *Messages {
	return &Messages{term: term, errs: errs, log: log}
}

// Infof tells the person about progress or a result.
func (m *Messages) Infof(format string, args ...any) {
	m.write(m.term, "gitsign: "+format+"\n", args...)
}

// Errorf reports an error, once.
func (m *Messages) Errorf(format string, args ...any) {
	m.write(m.errs, "gitsign: error: "+format+"\n", args...)
}

// Terminal is the writer for interactive text (login URLs and prompts).
func (m *Messages) Terminal() io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.log != nil {
			m.log.Write(p)
		}
		return m.term.Write(p)
	})
}

// write appends to the log first: if git has gone (Ctrl-C), writing to
// its closed stderr ends the process, and the log must have the line.
func (m *Messages) write(w io.Writer, format string, args ...any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	line := fmt.Sprintf(format, args...)
	if m.log != nil {
		io.WriteString(m.log, line)
	}
	io.WriteString(w, line)
}

// Close releases the terminal and log files.
func (m *Messages) Close() {
	for _, c := range m.close {
		c.Close()
	}
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
