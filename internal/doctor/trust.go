package doctor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tuf"

	"github.com/gitsign-dev/gitsign/internal/config"
	"github.com/gitsign-dev/gitsign/verify"
)

// soon is how close to the end of a validity window a warning starts.
const soon = 30 * 24 * time.Hour

// checkTrust checks the trust material verification uses: that it loads
// (the same way verification loads it), that TUF metadata behind a cached
// root has not expired, that each kind of authority in it has an entry
// valid now and not ending within 30 days, and that a private Fulcio is
// not checked against the public-good root.
func checkTrust(o Options, cfg *config.Config) Check {
	const name = "trusted-root"
	tm, source, err := verify.LoadTrust(verify.TrustOptions{
		TrustedRoot:        cfg.TrustedRoot,
		TUFCache:           o.TUFCache(cfg),
		FulcioRoot:         cfg.FulcioRoot,
		TimestampCertChain: cfg.TimestampCertChain,
		RekorPublicKey:     cfg.RekorPublicKeyFile,
		CTLogPublicKey:     cfg.CTLogPublicKeyFile,
	})
	if err != nil {
		hint := "gitsign.trustedRoot (GITSIGN_TRUSTED_ROOT) names it: fix the file or the setting"
		if cfg.TrustedRoot == "" {
			hint = "run gitsign initialize to fetch it again, or point TUF_ROOT at another cache"
		}
		return check(name, Fail, "cannot load the trust material: "+err.Error(), hint)
	}
	now := o.Now()
	if dir := o.TUFCache(cfg); cfg.TrustedRoot == "" && dir != "" {
		if c, stale := checkTUFMetadata(name, dir, now); stale {
			return c
		}
	}
	tr, _ := tm.(*root.TrustedRoot)
	if tr == nil {
		return check(name, OK, "trust material from "+source)
	}
	if c, bad := checkWindows(name, tr, now); bad {
		return c
	}
	if cfg.TrustedRoot == "" && source == builtinSource && cfg.Fulcio != config.Default().Fulcio && cfg.FulcioRoot == "" {
		return check(name, Warn, "Fulcio is "+cfg.Fulcio+", but the trust material is the public-good root built into gitsign: its certificates cannot be checked",
			"set gitsign.trustedRoot (GITSIGN_TRUSTED_ROOT) to that instance's trusted_root.json, or run gitsign initialize --mirror URL --root root.json")
	}
	return check(name, OK, "trust material from "+source)
}

// builtinSource is how verify.LoadTrust names the built-in root.
const builtinSource = "the public-good Sigstore root built into gitsign"

// checkTUFMetadata looks at the TUF metadata cached for the repository
// `gitsign initialize` last used: expired (or expiring) metadata means
// the cached root is no longer vouched for.
func checkTUFMetadata(name, dir string, now time.Time) (Check, bool) {
	mirror := tuf.DefaultMirror
	if b, err := os.ReadFile(filepath.Join(dir, "gitsign-mirror")); err == nil && len(bytes.TrimSpace(b)) > 0 {
		mirror = string(bytes.TrimSpace(b))
	}
	meta := filepath.Join(dir, tuf.URLToPath(mirror))
	if _, err := os.Stat(filepath.Join(meta, "targets", "trusted_root.json")); err != nil {
		return Check{}, false // no cached root: the built-in one is used
	}
	refresh := "run gitsign initialize to refresh it"
	for _, role := range []string{"timestamp", "snapshot", "targets", "root"} {
		b, err := os.ReadFile(filepath.Join(meta, role+".json"))
		if err != nil {
			return check(name, Warn, "the TUF cache "+meta+" has no "+role+".json: the cached root cannot be checked for freshness", refresh), true
		}
		var doc struct {
			Signed struct {
				Expires time.Time `json:"expires"`
			} `json:"signed"`
		}
		if err := json.Unmarshal(b, &doc); err != nil || doc.Signed.Expires.IsZero() {
			return check(name, Warn, "cannot read the expiry of "+role+".json in "+meta, refresh), true
		}
		exp := doc.Signed.Expires
		switch {
		case !now.Before(exp):
			return check(name, Warn, fmt.Sprintf("the cached TUF metadata from %s expired on %s (%s): the cached root may be out of date", mirror, day(exp), role), refresh), true
		case role == "root" && exp.Sub(now) < soon:
			return check(name, Warn, fmt.Sprintf("the cached TUF root of %s expires on %s", mirror, day(exp)), refresh), true
		}
	}
	return Check{}, false
}

// window is one authority's validity period, for checkWindows.
type window struct {
	start, end time.Time // zero: unbounded
}

// checkWindows reports an authority kind with no entry valid now, or
// whose last valid entry ends within soon; certificates of Fulcio CAs and
// TSAs count as their ends.
func checkWindows(name string, tr *root.TrustedRoot, now time.Time) (Check, bool) {
	kinds := []struct {
		what string
		ws   []window
	}{
		{"Fulcio certificate authority", caWindows(tr)},
		{"Rekor log key", logWindows(tr.RekorLogs())},
		{"CT log key", logWindows(tr.CTLogs())},
		{"timestamp authority", tsaWindows(tr)},
	}
	refresh := "refresh the trust material: gitsign initialize, or a new trusted_root.json for gitsign.trustedRoot"
	for _, k := range kinds {
		if len(k.ws) == 0 {
			continue
		}
		var last time.Time // latest end among entries valid now; zero: open
		valid, open := false, false
		for _, w := range k.ws {
			if (!w.start.IsZero() && now.Before(w.start)) || (!w.end.IsZero() && !now.Before(w.end)) {
				continue
			}
			valid = true
			if w.end.IsZero() {
				open = true
			} else if w.end.After(last) {
				last = w.end
			}
		}
		switch {
		case !valid:
			return check(name, Fail, "no "+k.what+" in the trusted root is valid now", refresh), true
		case !open && last.Sub(now) < soon:
			return check(name, Warn, fmt.Sprintf("the trusted root's last %s stops being valid on %s (in %d days)", k.what, day(last), int(last.Sub(now).Hours()/24)), refresh), true
		}
	}
	return Check{}, false
}

func caWindows(tr *root.TrustedRoot) []window {
	var out []window
	for _, ca := range tr.FulcioCertificateAuthorities() {
		if f, ok := ca.(*root.FulcioCertificateAuthority); ok {
			w := window{f.ValidityPeriodStart, f.ValidityPeriodEnd}
			if f.Root != nil && (w.end.IsZero() || f.Root.NotAfter.Before(w.end)) {
				w.end = f.Root.NotAfter
			}
			out = append(out, w)
		}
	}
	return out
}

func logWindows(logs map[string]*root.TransparencyLog) []window {
	var out []window
	for _, l := range logs {
		out = append(out, window{l.ValidityPeriodStart, l.ValidityPeriodEnd})
	}
	return out
}

func tsaWindows(tr *root.TrustedRoot) []window {
	var out []window
	for _, ta := range tr.TimestampingAuthorities() {
		if t, ok := ta.(*root.SigstoreTimestampingAuthority); ok {
			w := window{t.ValidityPeriodStart, t.ValidityPeriodEnd}
			if t.Root != nil && (w.end.IsZero() || t.Root.NotAfter.Before(w.end)) {
				w.end = t.Root.NotAfter
			}
			out = append(out, w)
		}
	}
	return out
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }
