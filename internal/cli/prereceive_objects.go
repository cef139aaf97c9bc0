package cli

// This file is what gitsign pre-receive checks of each ref update and
// each new object, what it tells the pusher, and its audit log.

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/gitsign-dev/gitsign/internal/gitrepo"
	"github.com/gitsign-dev/gitsign/internal/inspect"
	"github.com/gitsign-dev/gitsign/internal/printable"
	"github.com/gitsign-dev/gitsign/verify"
)

// tips are the new ref values whose objects must verify: those of every
// update that neither deletes a ref nor is exempt.
func (j *pushJudge) tips() []string {
	var tips []string
	for _, u := range j.updates {
		if !u.Deleted() && !j.exempt.Match(u.Ref) {
			tips = append(tips, u.New)
		}
	}
	return tips
}

// checkRefs applies the ref rules (exempt, protected) to each update,
// once checkForward has run.
func (j *pushJudge) checkRefs() {
	for _, u := range j.updates {
		switch {
		case j.exempt.Match(u.Ref):
			j.exempted++
		case u.Deleted():
			if j.protect.Match(u.Ref) {
				j.refuseRef(u.Ref, "deleting a protected ref (gitsign.receive.protect)")
			}
		case !u.Created() && j.protect.Match(u.Ref):
			if strings.HasPrefix(u.Ref, "refs/tags/") {
				j.refuseRef(u.Ref, "moving a protected ref (gitsign.receive.protect): a tag, once pushed, stays")
			} else if !j.forward[u.Ref] {
				j.refuseRef(u.Ref, "force-moving a protected ref (gitsign.receive.protect): only fast-forwards")
			}
		}
	}
}

// checkForward finds which protected branches the push moves forward.
func (j *pushJudge) checkForward(ctx context.Context) error {
	j.forward = make(map[string]bool)
	for _, u := range j.updates {
		if u.Created() || u.Deleted() || j.exempt.Match(u.Ref) || !j.protect.Match(u.Ref) || strings.HasPrefix(u.Ref, "refs/tags/") {
			continue
		}
		j.forward[u.Ref] = isAncestor(ctx, u.Old, u.New)
	}
	return ctx.Err()
}

// isAncestor reports whether commit old is an ancestor of new: git exits
// 0. Any failure (ids that are not both commits) is a no, so that a
// protected ref is refused rather than let through.
func isAncestor(ctx context.Context, old, new string) bool {
	_, err := gitrepo.Git(ctx, nil, "merge-base", "--is-ancestor", old, new)
	return err == nil
}

// tipType is what a pushed ref value is: its type, and the commit it
// peels to ("" when it peels to a tree or a blob).
type tipType struct {
	typ, commit string
}

// tipTypes asks git, in one git cat-file, what each pushed ref value is.
func (j *pushJudge) tipTypes(ctx context.Context) (map[string]tipType, error) {
	var q strings.Builder
	var ids []string
	for _, u := range j.updates {
		if !u.Deleted() {
			ids = append(ids, u.New)
			q.WriteString(u.New + "\n" + u.New + "^{}\n")
		}
	}
	types := make(map[string]tipType, len(ids))
	if len(ids) == 0 {
		return types, nil
	}
	out, err := gitrepo.Git(ctx, strings.NewReader(q.String()), "cat-file", "--batch-check=%(objecttype) %(objectname)")
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != 2*len(ids) {
		return nil, fmt.Errorf("git cat-file --batch-check: %d answers for %d questions", len(lines), 2*len(ids))
	}
	for i, id := range ids {
		typ, _, _ := strings.Cut(lines[2*i], " ")
		peeledType, peeled, _ := strings.Cut(lines[2*i+1], " ")
		t := tipType{typ: typ}
		if peeledType == "commit" {
			t.commit = peeled
		}
		types[id] = t
	}
	return types, nil
}

// newObjects is the stream of objects the push brings that must verify:
// the tag objects its refs name, then the commits its tips reach that no
// enforced ref under refs/heads/ or refs/tags/ reaches already, listed by
// a git rev-list started now. A ref that names a tree or a blob directly
// is refused: nothing signs it.
func (j *pushJudge) newObjects(ctx context.Context, tips []string) (gitrepo.IDSource, error) {
	var tags, commits []string
	for _, t := range tips {
		tt := j.types[t]
		if tt.typ == "tag" {
			tags = append(tags, t)
		}
		switch {
		case tt.commit != "":
			commits = append(commits, tt.commit)
		case tt.typ != "tag":
			j.refuseRef(j.refOf(t), fmt.Sprintf("it names a %s, which cannot carry a signature", printable.String(cmp.Or(tt.typ, "missing object"))))
		}
	}
	listed := gitrepo.IDList(nil)
	if len(commits) > 0 {
		revs := commits
		for _, k := range j.enforcedTips() {
			revs = append(revs, "^"+k)
		}
		var err error
		if listed, err = gitrepo.StartRevListStdin(ctx, revs); err != nil {
			return nil, err
		}
	}
	return func(ctx context.Context, emit func(string) error) error {
		if err := gitrepo.IDList(tags)(ctx, emit); err != nil {
			return err
		}
		return listed(ctx, emit)
	}, nil
}

// refOf is the first ref the push sets to id.
func (j *pushJudge) refOf(id string) string {
	for _, u := range j.updates {
		if u.New == id {
			return u.Ref
		}
	}
	return id
}

// existingRef is a ref under refs/heads/ or refs/tags/ before the push,
// with the commit it peels to ("" for none).
type existingRef struct {
	name, commit string
}

// existingRefs lists the refs under refs/heads/ and refs/tags/, with
// the commits they name (tags peeled once).
func existingRefs(ctx context.Context) ([]existingRef, error) {
	out, err := gitrepo.Git(ctx, nil, "for-each-ref", "--format=%(refname) %(objecttype) %(objectname) %(*objecttype) %(*objectname)", "refs/heads/", "refs/tags/")
	if err != nil {
		return nil, err
	}
	var refs []existingRef
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) < 3 {
			continue
		}
		r := existingRef{name: f[0]}
		switch {
		case f[1] == "commit":
			r.commit = f[2]
		case len(f) == 5 && f[3] == "commit":
			r.commit = f[4]
		}
		refs = append(refs, r)
	}
	return refs, nil
}

// enforcedTips are the commits the existing refs under refs/heads/ and
// refs/tags/ name that are not exempt: what the hook has already judged,
// or what was there before it. Commits that only exempt refs (or refs a
// push cannot make, like a forge's refs/pull/) reach are verified when a
// push makes an enforced ref reach them.
func (j *pushJudge) enforcedTips() []string {
	var ids []string
	for _, r := range j.refs {
		if r.commit != "" && !j.exempt.Match(r.name) {
			ids = append(ids, r.commit)
		}
	}
	return ids
}

// check verifies one object, and says why it is refused when it is.
func (j *pushJudge) check(ctx context.Context, v *verify.Verifier, o gitrepo.Object) objectReport {
	r := verifyObject(ctx, v, o)
	if r.Verified {
		return r
	}
	ref := &refusedObject{Object: o.ID, Type: o.Type, Subject: subjectOf(o.Raw)}
	r.refusal = ref
	_, sig, err := o.Split()
	var verr *verify.Error
	switch {
	case err != nil && err.Error() == o.Type+" is not signed": // gitobj's words
		ref.Reason = "unsigned"
	case err != nil:
		ref.Reason = "bad signature: " + err.Error()
	case errors.As(r.err, &verr) && verr.Kind == verify.Mismatch:
		ref.Reason = "bad signature: " + r.Error
		if d, derr := inspect.Signature(sig); derr == nil {
			ref.Reason = fmt.Sprintf("signed by %s (issuer %s), who is not listed in %s", printable.ASCII(d.Identity), printable.ASCII(d.Issuer), j.policy)
			ref.Suggest = suggestions(d)
		}
	default:
		ref.Reason = "bad signature: " + r.Error
	}
	return r
}

// subjectOf is the first line of a commit's or tag's message, escaped and
// shortened for one line of output.
func subjectOf(raw []byte) string {
	_, msg, ok := bytes.Cut(raw, []byte("\n\n"))
	if !ok {
		return ""
	}
	line, _, _ := bytes.Cut(msg, []byte("\n"))
	s := printable.String(string(line))
	if r := []rune(s); len(r) > 60 {
		s = string(r[:57]) + "..."
	}
	return s
}

// refuseRef records and prints a ref update the rules refuse.
func (j *pushJudge) refuseRef(ref, why string) {
	line := fmt.Sprintf("%s: %s", printable.String(ref), why)
	j.refProblems = append(j.refProblems, line)
	fmt.Fprintf(j.s.err, "gitsign: refused: %s\n", line)
}

// refuse records and prints an object that did not verify, with the
// allowed-signers lines that would accept its signer.
func (j *pushJudge) refuse(r refusedObject) {
	j.refused = append(j.refused, r)
	switch n := len(j.refused); {
	case n > maxRefusedLines+1:
		return
	case n == maxRefusedLines+1:
		fmt.Fprintf(j.s.err, "gitsign: refused: ... (more objects: the summary counts them)\n")
		return
	}
	fmt.Fprintf(j.s.err, "gitsign: refused: %s %s \"%s\": %s\n", r.Type, short(r.Object), r.Subject, printable.String(r.Reason))
	for _, l := range r.Suggest {
		fmt.Fprintf(j.s.err, "gitsign:   to accept this signer, add to %s: %s\n", j.policy, printable.String(l))
	}
}

// count is "1 thing" or "n things".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

func short(id string) string { return id[:min(12, len(id))] }

// summary prints the decision, and returns errReported when the push is
// refused.
func (j *pushJudge) summary() error {
	policy := j.policy
	if j.at != "" {
		policy += " at " + short(j.at)
	}
	exempt := ""
	if j.exempted > 0 {
		exempt = fmt.Sprintf("; %s not checked", count(j.exempted, "exempt ref update"))
	}
	if len(j.refused) == 0 && len(j.refProblems) == 0 {
		fmt.Fprintf(j.s.err, "gitsign: push accepted: %s verified against %s%s\n", count(j.verified, "new object"), policy, exempt)
		return nil
	}
	var parts []string
	if n := len(j.refused); n > 0 {
		parts = append(parts, fmt.Sprintf("%d of %s did not verify against %s", n, count(n+j.verified, "new object"), policy))
	}
	if n := len(j.refProblems); n > 0 {
		parts = append(parts, count(n, "ref update")+" not allowed")
	}
	fmt.Fprintf(j.s.err, "gitsign: push refused: %s%s\n", strings.Join(parts, "; "), exempt)
	return &exitError{code: 1, err: errReported}
}

// auditRecord is one line of gitsign.receive.log.
type auditRecord struct {
	Time       time.Time       `json:"time"`
	Repository string          `json:"repository"`
	User       string          `json:"user,omitempty"`
	Decision   string          `json:"decision"`
	Error      string          `json:"error,omitempty"`
	Policy     string          `json:"policy,omitempty"`
	PolicyAt   string          `json:"policyRevision,omitempty"`
	Refs       []auditRef      `json:"refs"`
	Verified   int             `json:"verified"`
	Refused    []refusedObject `json:"refused"`
	RefRefused []string        `json:"refsRefused,omitempty"`
}

type auditRef struct {
	Ref string `json:"ref"`
	Old string `json:"old"`
	New string `json:"new"`
}

// pusherVariables name the pusher, as forges and web servers set them.
var pusherVariables = []string{"GL_USERNAME", "GITEA_PUSHER_NAME", "REMOTE_USER"}

// writeAudit appends the push's record to the log file, in one write.
// err is why the push was refused, if it was.
func (j *pushJudge) writeAudit(path string, err error) error {
	rec := auditRecord{Time: time.Now().UTC(), Decision: "accepted", Policy: j.policy, PolicyAt: j.at,
		Refs: []auditRef{}, Verified: j.verified, Refused: j.refused, RefRefused: j.refProblems}
	if rec.Refused == nil {
		rec.Refused = []refusedObject{}
	}
	rec.Repository, _ = os.Getwd()
	for _, v := range pusherVariables {
		if u := os.Getenv(v); u != "" {
			rec.User = u
			break
		}
	}
	for _, u := range j.updates {
		rec.Refs = append(rec.Refs, auditRef{Ref: u.Ref, Old: u.Old, New: u.New})
	}
	if err != nil || len(j.refused) > 0 || len(j.refProblems) > 0 {
		rec.Decision = "refused"
	}
	if err != nil && !errors.Is(err, errReported) {
		rec.Error = err.Error()
	}
	line, merr := json.Marshal(rec)
	if merr != nil {
		return merr
	}
	f, ferr := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if ferr != nil {
		return ferr
	}
	_, werr := f.Write(append(line, '\n'))
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	return werr
}
