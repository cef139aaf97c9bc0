// Package tty carries gitsign's messages to the person: progress and
// results go to the terminal (/dev/tty) when there is one, since standard
// output belongs to git; errors go to standard error, and also to the
// terminal when standard error is not one (git captures it). Everything
// but progress is also appended to the log file named by GITSIGN_LOG
// (gitsign.logPath), when set, each line there starting with the time
// (RFC 3339, UTC, in milliseconds).
//
// Every message is one line: "gitsign: error: ...", "gitsign: warning:
// ...", "gitsign: ..." for information, each optionally followed by
// "gitsign: hint: ..." lines saying what the person can do about it.
package tty

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gitsign-dev/gitsign/internal/printable"
)

// Messages writes human-readable lines.
type Messages struct {
	mu    sync.Mutex
	term  io.Writer // results, warnings and interactive text
	errs  io.Writer // errors
	log   io.Writer // optional copy of everything but progress
	last  io.Writer // where the last message went: hints follow it
	close []io.Closer

	progress progress // steps that take a while (see Step)
	terminal bool     // term is a terminal (see HasTerminal)
}

// Open returns Messages for this process. logPath, if not empty, is opened
// for appending (created 0600) without following a symbolic link; a log
// that cannot be written, or that another user could read or redirect
// (see openLog), is reported once on standard error and otherwise ignored.
func Open(logPath string) *Messages {
	m := &Messages{term: os.Stderr, errs: os.Stderr}
	if f, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		m.term = f
		m.terminal = true
		m.close = append(m.close, f)
		// Progress only ever goes to a terminal: without one it is silent.
		m.progress = progress{w: f, delay: ProgressDelay}
		if !isTerminal(os.Stderr) {
			// git captures our stderr while signing and older versions
			// never show it, so the person sees errors on the terminal.
			m.errs = io.MultiWriter(os.Stderr, f)
		}
	}
	if logPath != "" {
		if f := openLog(logPath, os.Stderr); f != nil {
			m.log = &stamped{w: f, now: time.Now}
			m.close = append(m.close, f)
		}
	}
	return m
}

// openLog opens path for appending, creating it 0600. It refuses a path
// that is a symbolic link, is not a regular file, is owned by another
// user, or is writable by group or others, since another user could then
// read what gitsign logs or make it write elsewhere. A log that cannot be
// used is reported once on warn, and openLog returns nil.
func openLog(path string, warn io.Writer) *os.File {
	f, err := openLogFile(path)
	if err != nil {
		fmt.Fprintf(warn, "gitsign: warning: cannot write log %s: %v\n", path, err)
		return nil
	}
	return f
}

func openLogFile(path string) (*os.File, error) {
	f, err := openNoFollow(path)
	if err != nil {
		// Name the problem when the path itself is the problem (a link,
		// a directory, a pipe with no reader, another user's file).
		if fi, lerr := os.Lstat(path); lerr == nil {
			if reason := refuseLog(fi); reason != nil {
				return nil, reason
			}
		}
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, pe.Err
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil {
		err = refuseLog(fi)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// refuseLog says why a log file with this information must not be used,
// or returns nil.
func refuseLog(fi fs.FileInfo) error {
	switch m := fi.Mode(); {
	case m&fs.ModeSymlink != 0:
		return errors.New("it is a symbolic link")
	case m.IsDir():
		return errors.New("it is a directory")
	case m&fs.ModeNamedPipe != 0:
		return errors.New("it is a named pipe")
	case m&fs.ModeSocket != 0:
		return errors.New("it is a socket")
	case m&fs.ModeDevice != 0:
		return errors.New("it is a device")
	case !m.IsRegular():
		return fmt.Errorf("it is not a regular file (mode %s)", m)
	}
	return ownerProblem(fi)
}

// New returns Messages writing to the given writers (tests); log may be
// nil. It shows no progress until WithProgress is called.
func New(term, errs, log io.Writer) *Messages {
	return &Messages{term: term, errs: errs, log: log}
}

// HasTerminal reports whether a person reads the messages as they come:
// there is a terminal (or, in tests, progress is shown).
func (m *Messages) HasTerminal() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.terminal
}

// Infof tells the person about a result.
func (m *Messages) Infof(format string, args ...any) {
	m.write(m.term, "gitsign: "+format+"\n", args...)
}

// Warnf reports something that went wrong without stopping gitsign.
func (m *Messages) Warnf(format string, args ...any) {
	m.write(m.term, "gitsign: warning: "+format+"\n", args...)
}

// Errorf reports an error, once.
func (m *Messages) Errorf(format string, args ...any) {
	m.write(m.errs, "gitsign: error: "+format+"\n", args...)
}

// Hintf says what the person can do about the message before it (an
// error, a warning or information), on one line, and goes where that
// message went.
func (m *Messages) Hintf(format string, args ...any) {
	m.mu.Lock()
	w := m.last
	m.mu.Unlock()
	if w == nil {
		w = m.errs
	}
	m.write(w, "gitsign: hint: "+format+"\n", args...)
}

// Terminal is the writer for interactive text (login URLs and prompts,
// what a browser prints). Line breaks pass; every other character a
// terminal could act on is escaped (package printable), since the text
// comes from an issuer or another program.
func (m *Messages) Terminal() io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.progress.interrupt()
		safe := []byte(printable.Lines(string(p)))
		if m.log != nil {
			m.log.Write(safe)
		}
		m.last = m.term
		if _, err := m.term.Write(safe); err != nil {
			return 0, err
		}
		return len(p), nil
	})
}

// write appends to the log first: if git has gone (Ctrl-C), writing to
// its closed stderr ends the process, and the log must have the line.
// The line is one line: errors and identities from servers and
// certificates cannot break it or drive the terminal.
func (m *Messages) write(w io.Writer, format string, args ...any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.progress.interrupt()
	line := printable.String(strings.TrimSuffix(fmt.Sprintf(format, args...), "\n")) + "\n"
	if m.log != nil {
		io.WriteString(m.log, line)
	}
	m.last = w
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
