//go:build e2e

package e2e

import (
	"strings"
	"testing"
)

// TestVerifyRevisionsMeanOneThing is the README's old CI recipe under
// attack: a branch widens .gitsigners and adds an unsigned commit, and
// its author pushes a tag named origin/main, which git prefers to
// refs/remotes/origin/main. Pointed at the branch's head (the range is
// empty, the policy the widened one) or at an old main (a revoked signer
// listed again), gitsign verify refuses the name as ambiguous (exit 2,
// naming both refs) instead of passing; with full ref names the branch
// fails as it should, and no ref named like a full ref name or an object
// id changes that; an empty range is exit 1 unless --allow-empty.
func TestVerifyRevisionsMeanOneThing(t *testing.T) {
	issuer := stackEnv(t, "GITSIGN_OIDC_ISSUER")
	r := signersRepo(t)
	old := r.commitFile(".gitsigners", "alice@example.test "+issuer+"\nbob@example.test "+issuer+"\n", "alice and bob")
	base := r.commitFile(".gitsigners", "alice@example.test "+issuer+"\n", "bob leaves")
	r.git("update-ref", "refs/remotes/origin/main", base)

	r.git("checkout", "-q", "-b", "topic")
	r.writeFile(".gitsigners", "*@* *\n")
	r.git("add", ".gitsigners")
	r.git("-c", "commit.gpgsign=false", "commit", "-q", "-m", "let everyone in")
	bob := r.withEnv("SIGSTORE_ID_TOKEN=" + token(t, "bob"))
	topic := bob.commitFile("b.txt", "b\n", "bob again")

	recipe := []string{"--allowed-signers", "origin/main:.gitsigners", "origin/main..HEAD"}
	cliVerdict(t, r, 1, recipe, "FAILED") // no tag yet: the recipe works
	for _, at := range []string{topic, old} {
		r.git("tag", "-f", "origin/main", at)
		out := cliVerdict(t, r, 2, recipe, "origin/main is ambiguous", "refs/tags/origin/main", "refs/remotes/origin/main", "name it in full")
		if strings.Contains(out, "good signature") {
			t.Errorf("tag at %.12s: something was verified:\n%s", at, out)
		}
		// Full ref names mean what they say, whatever the tag.
		cliVerdict(t, r, 1, []string{"--allowed-signers", "refs/remotes/origin/main:.gitsigners", "refs/remotes/origin/main..HEAD"},
			topic+" commit: FAILED: signed by", "FAILED: commit is not signed")
		// Through git too: an ambiguous REV:PATH in git config is refused.
		r.git("config", "gitsign.allowedSignersFile", "origin/main:.gitsigners")
		if _, errOut, err := r.run("git", "verify-commit", topic); err == nil || !strings.Contains(errOut, "ambiguous") {
			t.Errorf("git verify-commit with an ambiguous policy: %v\n%s", err, errOut)
		}
		r.git("config", "--unset", "gitsign.allowedSignersFile")
	}
	r.git("tag", "-d", "origin/main")

	// A full ref name is git's first rule: a tag named after it neither
	// redirects it nor blocks the check. Nor does a branch named like an
	// object id.
	r.git("update-ref", "refs/tags/refs/remotes/origin/main", topic)
	r.git("update-ref", "refs/heads/"+base, topic)
	cliVerdict(t, r, 1, []string{"--allowed-signers", "refs/remotes/origin/main:.gitsigners", "refs/remotes/origin/main..HEAD"},
		topic+" commit: FAILED: signed by", "FAILED: commit is not signed")
	cliVerdict(t, r, 1, []string{"--allowed-signers", base + ":.gitsigners", base + ".." + topic}, topic+" commit: FAILED: signed by")
	r.git("update-ref", "-d", "refs/tags/refs/remotes/origin/main")
	r.git("update-ref", "-d", "refs/heads/"+base)

	// Object ids: what the CI templates give.
	cliVerdict(t, r, 1, []string{"--allowed-signers", base + ":.gitsigners", base + ".." + topic}, "FAILED")
	cliVerdict(t, r, 0, []string{"--allowed-signers", base + ":.gitsigners", old + ".." + base}, "good signature from alice@example.test")

	// A range with nothing in it proves nothing.
	out := cliVerdict(t, r, 1, []string{"--allowed-signers", base + ":.gitsigners", topic + ".." + topic}, "nothing to verify", "--allow-empty")
	if out != "" {
		t.Errorf("an empty range printed %q", out)
	}
	cliVerdict(t, r, 0, []string{"--allow-empty", "--allowed-signers", base + ":.gitsigners", topic + ".." + topic})
}
