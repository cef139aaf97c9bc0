package tty

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/gitsign-dev/gitsign/internal/printable"
)

// ProgressDelay is how long a step runs before the terminal hears of it,
// as with git's progress: a step that finishes sooner shows nothing.
const ProgressDelay = time.Second

// progress is where Messages announce slow steps. It is guarded by
// Messages.mu.
type progress struct {
	w     io.Writer // the terminal; nil shows nothing
	delay time.Duration
	// after runs f once d has passed and returns a function that
	// cancels it (time.AfterFunc when nil; tests drive a fake clock).
	after func(d time.Duration, f func()) (stop func() bool)
	// open is the step whose line is still unfinished: announced, no
	// newline yet.
	open *step
}

type stepState int

const (
	waiting stepState = iota // not announced yet
	shown                    // announced, still running
	ended
)

type step struct {
	what  string
	state stepState
}

// interrupt finishes an announced step's line, so that what is written
// next starts on a line of its own. Callers hold Messages.mu.
func (p *progress) interrupt() {
	if p.open != nil {
		io.WriteString(p.w, "\n")
		p.open = nil
	}
}

func (p *progress) schedule(f func()) (stop func() bool) {
	if p.after != nil {
		return p.after(p.delay, f)
	}
	return time.AfterFunc(p.delay, f).Stop
}

// Step announces a step that may take a while, such as a request to a
// server or the wait for a login. If the step is still running after the
// delay, "gitsign: <what>..." appears on the terminal and done finishes
// the line with "done", or "failed" when err is not nil (the error itself
// is reported as usual). A step that ends within the delay shows nothing,
// and without a terminal (no /dev/tty) nothing is ever shown. Progress
// goes to the terminal only: never to standard output, standard error or
// the log. done may be called more than once; only the first call counts.
func (m *Messages) Step(what string) (done func(err error)) {
	m.mu.Lock()
	enabled, delay := m.progress.w != nil, m.progress.delay
	m.mu.Unlock()
	if !enabled {
		return func(error) {}
	}
	st := &step{what: printable.String(what)}
	show := func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if st.state != waiting {
			return
		}
		m.progress.interrupt()
		fmt.Fprintf(m.progress.w, "gitsign: %s...", st.what)
		st.state = shown
		m.progress.open = st
	}
	var stop func() bool
	if delay <= 0 {
		show()
	} else {
		m.mu.Lock()
		p := m.progress
		m.mu.Unlock()
		stop = p.schedule(show)
	}
	var once sync.Once
	return func(err error) {
		once.Do(func() {
			if stop != nil {
				stop()
			}
			m.mu.Lock()
			defer m.mu.Unlock()
			was := st.state
			st.state = ended
			if was != shown {
				return
			}
			result := "done"
			if err != nil {
				result = "failed"
			}
			if m.progress.open == st {
				fmt.Fprintf(m.progress.w, " %s\n", result)
				m.progress.open = nil
				return
			}
			fmt.Fprintf(m.progress.w, "gitsign: %s... %s\n", st.what, result)
		})
	}
}

// WithProgress makes m announce slow steps on w (a terminal) once they
// have run for delay, or at once when delay is 0; a nil w turns progress
// off. It returns m.
func (m *Messages) WithProgress(w io.Writer, delay time.Duration) *Messages {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.progress = progress{w: w, delay: delay}
	m.terminal = true
	return m
}
