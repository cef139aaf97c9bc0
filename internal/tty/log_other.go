//go:build !unix

package tty

import (
	"errors"
	"io/fs"
	"os"
)

// openNoFollow opens path for appending, creating it 0600, without
// following a symbolic link where the platform has no O_NOFOLLOW: a new
// file is created exclusively (which never follows a link), and an
// existing path must be a regular file, checked before opening and
// compared with what was opened.
func openNoFollow(path string) (*os.File, error) {
	for range 2 {
		before, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
			if errors.Is(err, fs.ErrExist) {
				continue // created meanwhile: look again
			}
			return f, err
		}
		if err != nil {
			return nil, err
		}
		if reason := refuseLog(before); reason != nil {
			return nil, reason
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return nil, err
		}
		if after, err := f.Stat(); err != nil || !os.SameFile(before, after) {
			f.Close()
			return nil, errors.New("it was replaced while being opened")
		}
		return f, nil
	}
	return nil, errors.New("it keeps changing while being opened")
}

// ownerProblem accepts any regular file: these platforms have no POSIX
// owner and mode bits to check (Windows protects files with ACLs, which a
// new file inherits from its directory).
func ownerProblem(fs.FileInfo) error { return nil }
