package cli

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/spf13/cobra"

	"github.com/gitsign-dev/gitsign/internal/allowedsigners"
	"github.com/gitsign-dev/gitsign/internal/certinfo"
	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/config"
	"github.com/gitsign-dev/gitsign/internal/gitobj"
	"github.com/gitsign-dev/gitsign/internal/gpg"
	"github.com/gitsign-dev/gitsign/internal/httpx"
	"github.com/gitsign-dev/gitsign/internal/printable"
	"github.com/gitsign-dev/gitsign/internal/rekor"
	"github.com/gitsign-dev/gitsign/verify"
)

// runVerify is git's verification entry point:
// gitsign --status-fd=1 --verify SIGFILE - (payload on stdin). It writes
// NEWSIG, then GOODSIG+VALIDSIG+TRUST_* or BADSIG or ERRSIG, and exits 0
// only for a good signature that no configured policy rejects. The policy
// and trust material are checked before the signature is read: a policy
// that cannot be applied is ERRSIG with exit 2.
func (o *gpgOptions) runVerify(cmd *cobra.Command, args []string, s streams) error {
	status := statusFor(o.statusFD, s)
	status.NewSig()
	keyID := "0000000000000000"
	errsig := func(code int, err error) error {
		status.ErrSig(keyID, time.Now(), 9)
		report(s.err, fmt.Errorf("cannot check the signature: %w", err))
		return &exitError{code: code, err: errReported}
	}
	if len(args) != 2 {
		return errsig(2, errors.New("--verify takes SIGFILE and DATAFILE (or - for standard input): attached signatures are not used by git"))
	}
	ctx, stop := signalContext()
	defer stop()
	// The configuration is not known yet, and its default is the built-in
	// root; warming up overlaps with git config.
	verify.WarmUp(true)
	oneShotGC()
	cfg, err := config.Load(ctx)
	if err != nil {
		return errsig(2, err)
	}
	policy, err := policyFromConfig(ctx, cfg)
	if err != nil {
		return errsig(2, err)
	}
	tm, err := loadTrust(cfg, "")
	if err != nil {
		return errsig(2, err) // the setup's mistake, as an invalid setting is
	}
	v, err := verify.New(tm, verify.Options{Policy: policy, AnyIdentityUnsafe: !policy.Configured(), Log: rekorLog(cfg), InsecureIgnoreSCT: cfg.InsecureIgnoreSCT})
	if err != nil {
		return errsig(2, &exitError{code: 2, err: err, hints: policyHints(err, false)})
	}
	sig, err := readLimited(args[0], nil, cms.MaxSignatureSize)
	if err != nil {
		return errsig(1, fmt.Errorf("reading the signature: %w", err))
	}
	payload, err := readLimited(args[1], s.in, maxPayload)
	if err != nil {
		return errsig(1, fmt.Errorf("reading the signed data: %w", err))
	}
	objectID := func() (string, error) {
		obj, typ, err := gitobj.WithSignature(payload, sig)
		if err != nil {
			return "", err
		}
		return gitobj.ID(typ, obj), nil
	}
	res, err := v.Verify(ctx, payload, sig, objectID)
	if err != nil {
		var ve *verify.Error
		if errors.As(err, &ve) && ve.Cert != nil {
			keyID = gpg.Fingerprint(ve.Cert)
		}
		if ve == nil || ve.Kind == verify.Unverifiable {
			return errsig(1, err)
		}
		fpr, uid := "0000000000000000", "(unknown)"
		if ve.Cert != nil {
			fpr, uid = gpg.Fingerprint(ve.Cert), identityOf(ve.Cert)
		}
		status.BadSig(fpr, uid)
		fmt.Fprintf(s.err, "gitsign: BAD signature: %s\n", printable.String(err.Error()))
		for _, h := range acceptHints(err, acceptLines(err, sig), policyPlace(cfg.AllowedSignersFile, false)) {
			fmt.Fprintf(s.err, "gitsign: hint: %s\n", printable.String(h))
		}
		return &exitError{code: 1, err: errReported}
	}
	status.GoodSig(res.Fingerprint, res.Identity)
	status.ValidSig(res.Fingerprint, res.Time, gpg.PubKeyECDSA, gpg.HashSHA256)
	if res.PolicyChecked {
		status.Trust(gpg.TrustFully)
	} else {
		status.Trust(gpg.TrustUndefined)
	}
	reportGood(s.err, res)
	if res.SCTIgnored != "" {
		fmt.Fprintf(s.err, "gitsign: warning: accepted without a verified SCT, as gitsign.insecureIgnoreSCT asks: %s\n", printable.String(res.SCTIgnored))
	}
	if !res.PolicyChecked {
		hintPolicy(s.err, res)
	}
	return nil
}

// hintPolicy says how to require the signer that was seen: the
// allowed-signers line that accepts exactly this identity from this
// issuer, and a command that appends it to .gitsigners at the top of the
// work tree (from any subdirectory) and makes that file the policy. They
// are offered only when both values can be written on a line and quoted
// safely: an identity is chosen by whoever got the certificate (a CI
// workflow's identity may contain shell syntax), and copying the hint
// must run nothing else.
func hintPolicy(w io.Writer, res *verify.Result) {
	line := allowedsigners.Line(res.Identity, res.Issuer)
	quoted, ok := printable.ShellQuote(line)
	if line == "" || !ok {
		fmt.Fprintf(w, "gitsign: hint: no identity policy is set, so this only shows that the certificate is valid, not who may sign; list who may sign in an allowed-signers file and set gitsign.allowedSignersFile to it\n")
		return
	}
	fmt.Fprintf(w, "gitsign: hint: no identity policy is set, so this only shows that %s signed; the allowed-signers line that accepts this signer is: %s\n", printable.ASCII(res.Identity), line)
	fmt.Fprintf(w, "gitsign: hint: to require it: printf '%%s\\n' %s >> \"$(git rev-parse --show-toplevel)/.gitsigners\" && git config gitsign.allowedSignersFile .gitsigners\n", quoted)
}

// reportGood tells the person who signed, when and how it was checked.
func reportGood(w io.Writer, res *verify.Result) {
	how := fmt.Sprintf("transparency log index %d", res.LogIndex)
	if res.Online {
		how += ", looked up in Rekor"
	}
	if res.Timestamped {
		how += ", timestamped"
	}
	fmt.Fprintf(w, "gitsign: good signature from %s (issuer %s)\n", printable.ASCII(res.Identity), printable.ASCII(res.Issuer))
	fmt.Fprintf(w, "gitsign: signed %s (%s); certificate %s\n", res.Time.UTC().Format(time.RFC3339), how, res.Fingerprint)
}

// readLimited reads a file, or in for "-", up to limit bytes. Its errors
// do not name the file: git passes temporary names that mean nothing to
// the person, so callers say what was being read.
func readLimited(name string, in io.Reader, limit int64) ([]byte, error) {
	var r io.Reader = in
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	} else if in == nil {
		return nil, errors.New("standard input is not available here")
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("more than %d bytes", limit)
	}
	return b, nil
}

// loadTrust loads the trust material to verify with (never from the
// network): trustedRoot if given, else as configured.
func loadTrust(cfg *config.Config, trustedRoot string) (root.TrustedMaterial, error) {
	if trustedRoot == "" {
		trustedRoot = cfg.TrustedRoot
	}
	tm, _, err := verify.LoadTrust(verify.TrustOptions{
		TrustedRoot:        trustedRoot,
		TUFCache:           tufCacheDir(cfg),
		FulcioRoot:         cfg.FulcioRoot,
		TimestampCertChain: cfg.TimestampCertChain,
		RekorPublicKey:     cfg.RekorPublicKeyFile,
		CTLogPublicKey:     cfg.CTLogPublicKeyFile,
	})
	return tm, err
}

// tufCacheDir is where trust material fetched by TUF is cached: TUF_ROOT,
// else ~/.sigstore/tuf; "" when neither can be told.
func tufCacheDir(cfg *config.Config) string {
	if cfg.TUFRoot != "" {
		return cfg.TUFRoot
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".sigstore", "tuf")
}

// trustHints names what sets each part of the trust material.
func trustHints(e *verify.TrustError) []string {
	switch e.Part {
	case verify.PartTrustedRoot:
		return []string{"it is named by --trusted-root, git config gitsign.trustedRoot or GITSIGN_TRUSTED_ROOT"}
	case verify.PartCachedRoot:
		return []string{"run gitsign initialize to refresh it, or point TUF_ROOT at another cache"}
	case verify.PartFulcioRoot:
		return []string{"it is named by git config gitsign.fulcioRoot, GITSIGN_FULCIO_ROOT, SIGSTORE_FULCIO_ROOT or SIGSTORE_ROOT_FILE"}
	case verify.PartTimestampChain:
		return []string{"it is named by git config gitsign.timestampCertChain, GITSIGN_TIMESTAMP_CERT_CHAIN or SIGSTORE_TIMESTAMP_CERT_CHAIN"}
	case verify.PartRekorKey:
		return []string{"it is named by SIGSTORE_REKOR_PUBLIC_KEY: fix the file, or unset it to use the trusted root's Rekor keys"}
	case verify.PartCTLogKey:
		return []string{"it is named by SIGSTORE_CT_LOG_PUBLIC_KEY_FILE: fix the file, or unset it to use the trusted root's CT logs"}
	}
	return nil
}

// rekorLog is where online-mode signatures are looked up.
func rekorLog(cfg *config.Config) verify.Log {
	return &rekor.Client{URL: cfg.Rekor, Version: 1, HTTP: httpx.New(cfg.Timeout).For(httpx.Rekor)}
}

// identityOf names a certificate's identity (its SAN) for status lines.
func identityOf(cert *x509.Certificate) string {
	id, _ := certinfo.Names(cert)
	return id
}
