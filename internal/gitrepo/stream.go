package gitrepo

// This file streams git objects out of one `git cat-file --batch`: ids go
// in on one goroutine while objects come out on another, so that git looks
// up the next objects while the caller works on the last, and nothing holds
// more than a few objects however long the stream.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
)

// requestAhead is how many ids may be given to git cat-file before their
// objects are read: enough to keep git busy, few enough to be no memory.
const requestAhead = 32

// errCatFileGone: git cat-file stopped taking ids. The object read that
// follows says why, with what git said.
var errCatFileGone = errors.New("git cat-file stopped reading")

// catFile is a running `git cat-file --batch`.
type catFile struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr bytes.Buffer
	format string // the repository's object format
}

// startCatFile starts git cat-file --batch, and asks git for the
// repository's object format while it starts; ctx's end kills it.
func startCatFile(ctx context.Context) (*catFile, error) {
	c := &catFile{cmd: exec.CommandContext(ctx, "git", "cat-file", "--batch")}
	c.cmd.Stderr = &c.stderr
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("running git cat-file: %w", err)
	}
	c.stdout = bufio.NewReader(stdout)
	if c.format, err = ObjectFormat(ctx); err != nil {
		c.stdin.Close()
		c.cmd.Process.Kill()
		c.cmd.Wait()
		return nil, err
	}
	return c, nil
}

// read reads the object git prints for the id want, bounded by MaxObjectSize.
// The error says what was wrong, without git's message.
func (c *catFile) read(want string) (Object, error) {
	e, header, err := readBatchEntry(c.stdout, MaxObjectSize)
	switch {
	case errors.Is(err, errBadHeader), err == nil && e.id != want:
		return Object{}, fmt.Errorf("asked for %s, got %q", want, header)
	case errors.Is(err, errTooLarge):
		return Object{}, fmt.Errorf("bad size in %q", header)
	case errors.Is(err, errNoNewline):
		return Object{}, fmt.Errorf("object %s is not followed by a newline", want)
	case err != nil:
		return Object{}, fmt.Errorf("reading object %s: %v", want, err)
	}
	return Object{ID: e.id, Type: e.typ, Raw: e.data, Format: c.format}, nil
}

// A batchEntry is one answer of git cat-file --batch.
type batchEntry struct {
	id, typ string
	data    []byte
}

var (
	errBadHeader = errors.New("not an object header")
	errTooLarge  = errors.New("too large")
	errNoNewline = errors.New("not followed by a newline")
)

// readBatchEntry reads one answer of git cat-file --batch from r: the
// header "<id> <type> <size>", then size bytes and a newline, no more than
// max bytes, which are not read when there are more. header is the header
// line, trimmed, for the caller's messages ("<name> missing" is
// errBadHeader).
func readBatchEntry(r *bufio.Reader, max int64) (e batchEntry, header string, err error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return e, "", err
	}
	header = strings.TrimSpace(line)
	f := strings.Fields(header)
	if len(f) != 3 || !IsObjectID(f[0]) {
		return e, header, errBadHeader
	}
	size, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil || size < 0 || size > max {
		return e, header, errTooLarge
	}
	data := make([]byte, size+1)
	if _, err := io.ReadFull(r, data); err != nil {
		return e, header, err
	}
	if data[size] != '\n' {
		return e, header, errNoNewline
	}
	return batchEntry{id: f[0], typ: f[1], data: data[:size]}, header, nil
}

// wait waits for git to end and returns "git cat-file: " and git's reason
// when it failed, prefixed by what (when not empty) or its exit status.
func (c *catFile) wait(what string) error {
	err := c.cmd.Wait()
	msg := Message(c.stderr.Bytes())
	switch {
	case what != "" && msg != "":
		return fmt.Errorf("git cat-file: %s: %s", what, msg)
	case what != "":
		return fmt.Errorf("git cat-file: %s", what)
	case err == nil:
		return nil
	case msg == "":
		msg = err.Error()
	}
	return fmt.Errorf("git cat-file: %s", msg)
}

// StreamObjects reads the objects src names, exactly as git stores them,
// through one `git cat-file --batch`, and hands each to got, in src's
// order, as it arrives. git is asked for the repository's object format,
// and started, only when src names a first object.
//
// The first error ends the stream: src's, got's (returned as is), or a
// bad object or a failing git ("git cat-file: ..." with what git said).
// Every git process is stopped and waited for before StreamObjects
// returns.
func StreamObjects(ctx context.Context, src IDSource, got func(Object) error) error {
	return streamObjects(ctx, src, got, false)
}

// StreamObjectsEager is StreamObjects with git cat-file started at once,
// while src works out its first id (each git process takes milliseconds
// to start), even if src then names none.
func StreamObjectsEager(ctx context.Context, src IDSource, got func(Object) error) error {
	return streamObjects(ctx, src, got, true)
}

type startedCatFile struct {
	cf  *catFile
	err error
}

func streamObjects(ctx context.Context, src IDSource, got func(Object) error, eager bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var started chan startedCatFile
	if eager {
		started = make(chan startedCatFile, 1)
		go func() {
			c, err := startCatFile(ctx)
			started <- startedCatFile{c, err}
		}()
	}
	// open returns the cat-file, started now or by the eager start.
	open := func() (*catFile, error) {
		if eager {
			s := <-started
			eager = false
			return s.cf, s.err
		}
		return startCatFile(ctx)
	}
	var cf *catFile // set by the feeder before it sends the first id
	requested := make(chan string, requestAhead)
	fed := make(chan error, 1)
	go func() {
		err := src(ctx, func(id string) error {
			if cf == nil {
				c, err := open()
				if err != nil {
					return err
				}
				cf = c
			}
			// Announced before it is written: whatever git does with an
			// id, the reader is waiting for its object and sees why.
			select {
			case requested <- id:
			case <-ctx.Done():
				return ctx.Err()
			}
			if _, err := io.WriteString(cf.stdin, id+"\n"); err != nil {
				return errCatFileGone
			}
			return nil
		})
		if cf == nil && eager {
			// Started for nothing: end it (ctx is not over yet).
			if s := <-started; s.cf != nil {
				s.cf.stdin.Close()
				s.cf.cmd.Wait()
			}
		}
		if cf != nil {
			cf.stdin.Close()
		}
		close(requested)
		fed <- err
	}()

	// stop ends the stream early: it stops src and git, waits for the
	// feeder and git, and returns err, or what (with git's message) when
	// err is nil.
	stop := func(what string, err error) error {
		cancel()
		<-fed
		werr := cf.wait(what)
		if err != nil {
			return err
		}
		return werr
	}
	for want := range requested {
		o, err := cf.read(want)
		if err != nil {
			return stop(err.Error(), nil)
		}
		if err := got(o); err != nil {
			return stop("", err)
		}
	}
	err := <-fed
	if cf == nil {
		return err // src's, or starting git's; or nil: src named nothing
	}
	werr := cf.wait("")
	if err != nil && err != errCatFileGone {
		return err
	}
	if werr == nil && err != nil {
		werr = fmt.Errorf("git cat-file: %v", err)
	}
	return werr
}
