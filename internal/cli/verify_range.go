package cli

// This file verifies a stream of git objects on every core and reports
// the results in the order git listed the objects, each as soon as it and
// all those before it are done:
//
//	git rev-list ─ids→ git cat-file --batch ─objects→ N workers ─reports→ in-order writer
//
// At most a window of objects is between the reader and the writer, so
// memory does not grow with the range.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/gitsign-dev/gitsign/internal/gitrepo"
	"github.com/gitsign-dev/gitsign/internal/printable"
)

// windowPerWorker is how many objects, per worker, may be read ahead of
// the oldest one not yet reported: enough that a slow verification does
// not idle the other workers, few enough to keep memory flat.
const windowPerWorker = 8

// verifyJob is one object to check and where its report goes.
type verifyJob struct {
	obj  gitrepo.Object
	done chan objectReport // buffered: a worker never waits on the writer
}

// verifyStream reads the objects src names (gitrepo.StreamObjectsEager), checks them
// with check on workers goroutines, and hands each report to emit, on the
// calling goroutine, in src's order. check must be safe for concurrent
// use; emit is never called concurrently.
//
// When reading fails (src, git, a bad object), the reports of every object
// read before are emitted and then the error is returned. When emit fails,
// or ctx ends, everything stops and that error is returned, with no
// further report. Every goroutine and git process has ended when
// verifyStream returns.
func verifyStream(ctx context.Context, src gitrepo.IDSource, workers int, check func(context.Context, gitrepo.Object) objectReport, emit func(objectReport) error) error {
	workers = max(workers, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan verifyJob)
	// order holds the reports to come, oldest first; its capacity is the
	// window.
	order := make(chan chan objectReport, workers*windowPerWorker)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range work {
				j.done <- check(ctx, j.obj)
			}
		})
	}
	var readErr error
	wg.Go(func() {
		defer close(order)
		defer close(work)
		readErr = gitrepo.StreamObjectsEager(ctx, src, func(o gitrepo.Object) error {
			j := verifyJob{obj: o, done: make(chan objectReport, 1)}
			// To a worker first, then in line: every report in line is
			// coming.
			select {
			case work <- j:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case order <- j.done:
			case <-ctx.Done():
				return ctx.Err()
			}
			return nil
		})
	})
	var err error
	for done := range order {
		if err != nil {
			continue // stopping: let the reader see ctx's end
		}
		r := <-done
		if err = ctx.Err(); err == nil {
			err = emit(r)
		}
		if err != nil {
			cancel()
		}
	}
	wg.Wait()
	if err != nil {
		return err
	}
	// ctx ended while the last reports were written: git, killed with it,
	// may have made the reader fail first, but the cause is ctx's end.
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return readErr
}

// reportWriter writes reports as gitsign verify prints them: a line each,
// or one JSON document, {"schema":1,"results":[...]} (docs/json.md), with
// the bytes json.MarshalIndent makes of the whole document, written
// result by result as they come: nothing is held back, however long the
// range.
type reportWriter struct {
	w       io.Writer
	json    bool
	written int // JSON results written
}

// verifyDocument is the whole JSON document, as reportWriter streams it.
type verifyDocument struct {
	Schema  int            `json:"schema"`
	Results []verifyResult `json:"results"`
}

// The document's bytes around its results, as json.MarshalIndent(doc,
// "", "  ") writes them.
const (
	resultsOpen  = "{\n  \"schema\": %d,\n  \"results\": ["
	resultIndent = "    "
	resultsClose = "\n  ]\n}\n"
	resultsEmpty = "]\n}\n"
)

// write writes r. In text form, write errors are ignored, as fmt.Printf's
// are; in JSON form they are returned.
func (p *reportWriter) write(r objectReport) error {
	if !p.json {
		if r.Verified {
			fmt.Fprintf(p.w, "%s %s: good signature from %s (issuer %s), log index %d, %s, accepted by %s\n", r.Object, r.Type, printable.ASCII(r.Identity), printable.ASCII(r.Issuer), r.LogIndex, r.Time.UTC().Format(time.RFC3339), printable.String(r.Rule))
		} else {
			fmt.Fprintf(p.w, "%s %s: FAILED: %s\n", r.Object, r.Type, printable.String(r.Error))
		}
		return nil
	}
	// A result in the array is the result indented by "  " after a
	// prefix of "    ".
	elem, err := json.MarshalIndent(r.result(), resultIndent, "  ")
	if err != nil {
		return err
	}
	sep := ",\n" + resultIndent
	if p.written == 0 {
		sep = fmt.Sprintf(resultsOpen, jsonSchema) + "\n" + resultIndent
	}
	p.written++
	_, err = p.w.Write(printable.JSON(append([]byte(sep), elem...)))
	return err
}

// close ends the JSON document (with "results": [] when it is empty).
func (p *reportWriter) close() error {
	if !p.json {
		return nil
	}
	end := resultsClose
	if p.written == 0 {
		end = fmt.Sprintf(resultsOpen, jsonSchema) + resultsEmpty
	}
	_, err := io.WriteString(p.w, end)
	return err
}
