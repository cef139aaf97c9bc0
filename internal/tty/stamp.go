package tty

import (
	"bytes"
	"io"
	"time"
)

// stampFormat is the time at the start of each line of the log: RFC 3339
// in UTC with milliseconds, e.g. 2026-03-01T09:30:15.042Z.
const stampFormat = "2006-01-02T15:04:05.000Z07:00"

// stamped writes lines to w, each starting with the time it was begun
// and a space. It is used under Messages' lock.
type stamped struct {
	w       io.Writer
	now     func() time.Time
	midLine bool // the last write did not end its line
}

func (s *stamped) Write(p []byte) (int, error) {
	var out, stamp []byte
	for rest := p; len(rest) > 0; {
		if !s.midLine {
			if stamp == nil {
				stamp = append(s.now().UTC().AppendFormat(nil, stampFormat), ' ')
			}
			out = append(out, stamp...)
		}
		line, after, found := bytes.Cut(rest, []byte("\n"))
		out = append(out, line...)
		if found {
			out = append(out, '\n')
		}
		s.midLine, rest = !found, after
	}
	if _, err := s.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}
