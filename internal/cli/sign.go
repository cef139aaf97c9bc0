package cli

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"

	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/spf13/cobra"

	"github.com/gitsign-dev/gitsign/cache"
	"github.com/gitsign-dev/gitsign/gitsign"
	"github.com/gitsign-dev/gitsign/internal/certinfo"
	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/config"
	"github.com/gitsign-dev/gitsign/internal/gitobj"
	"github.com/gitsign-dev/gitsign/internal/gpg"
	"github.com/gitsign-dev/gitsign/internal/tty"
	"github.com/gitsign-dev/gitsign/verify"
)

// openMessages opens the terminal and the log for signing (tests swap it).
var openMessages = tty.Open

// runSign signs the payload and writes the signature to standard output
// and the status lines to --status-fd. Nothing reaches standard output
// unless signing succeeded. Errors, warnings and their hints go through
// tty.Messages (standard error, the terminal when git hides standard
// error, and GITSIGN_LOG); progress goes to the terminal only.
func (o *gpgOptions) runSign(cmd *cobra.Command, args []string, s streams) error {
	ctx, stop := signalContext()
	defer stop()
	oneShotGC()
	cfg, unknownKeys, err := loadConfigKeys(ctx)
	if err != nil {
		return err
	}
	msgs, fb, fail := signSession(cfg)
	defer msgs.Close()
	warnUnknownKeys(unknownKeys, msgs.Warnf, msgs.Hintf)

	payload, err := readPayload(args, s.in)
	if err != nil {
		return fail(err)
	}
	if selfChecks(cfg) {
		// The one-time part of the self-check overlaps with the log upload.
		verify.WarmUp(cfg.TrustedRoot == "")
	}
	signer, err := gitsign.New(signerOptions(cfg, fb))
	if err != nil {
		return fail(err)
	}
	if err := signer.Check(payload, o.detach); err != nil {
		return fail(err)
	}
	cred, _, err := signer.Credential(ctx)
	if err != nil {
		return fail(err)
	}
	status := statusFor(o.statusFD, s)
	status.BeginSigning()
	sig, err := signer.Sign(ctx, cred, payload, o.detach)
	if err != nil {
		return fail(err)
	}
	if err := selfCheck(ctx, cfg, payload, sig); err != nil {
		return fail(err)
	}
	out := sig.PEM
	if !o.armor {
		der, err := cms.Dearmor(sig.PEM)
		if err != nil {
			return fail(err)
		}
		out = der
	}
	status.SigCreated(o.detach, gpg.PubKeyECDSA, gpg.HashSHA256, sig.Time, gpg.Fingerprint(sig.Cert))
	if _, err := s.out.Write(out); err != nil {
		return fail(err)
	}
	reportSigned(msgs, sig, cfg.RekorMode.String())
	return nil
}

// signSession opens what a signing run talks to people through: the
// terminal, standard error and the log (msgs, which the caller closes),
// the feedback of the login and the cache (fb), and fail, which reports
// an error with its hints and returns the exit error for it.
func signSession(cfg *config.Config) (msgs *tty.Messages, fb signFeedback, fail func(error) error) {
	msgs = openMessages(cfg.LogPath)
	hints := func(err error) {
		for _, h := range hintsOf(err) {
			msgs.Hintf("%s", h)
		}
	}
	fail = func(err error) error {
		msgs.Errorf("%s", errorLine(err))
		hints(err)
		return &exitError{code: signExitCode(err), err: errReported}
	}
	fb = signFeedback{
		notify:   loginNotices(msgs.Terminal(), func(h string) { msgs.Hintf("%s", h) }),
		terminal: msgs.Terminal(),
		// A device code in GITSIGN_LOG can be read there as it comes.
		noTerminal: !msgs.HasTerminal() && cfg.LogPath == "",
		step:       msgs.Step,
		warn: func(err error) {
			msgs.Warnf("%s", cacheWarning(err))
			if errors.As(err, new(*cache.KeyringError)) {
				// The session says it at most once a day (cache.Session).
				msgs.Hintf("this note is shown once a day")
			}
			hints(err)
		},
	}
	return msgs, fb, fail
}

// selfChecks says whether selfCheck runs for this configuration.
func selfChecks(cfg *config.Config) bool {
	return cfg.TrustedRoot != "" || cfg.Fulcio == config.Default().Fulcio
}

// selfVerifier is the verifier of the self-checks: the configuration's
// trust material, and a policy that accepts exactly the identity cert
// names; log looks up online-mode entries (nil for none).
func selfVerifier(cfg *config.Config, cert *x509.Certificate, log verify.Log) (*verify.Verifier, error) {
	sum, err := certinfo.Of(cert)
	if err != nil {
		return nil, fmt.Errorf("reading the new certificate: %w", err)
	}
	tm, err := loadTrust(cfg, "")
	if err != nil {
		return nil, fmt.Errorf("checking the new signature: %w", err)
	}
	v, err := verify.New(tm, verify.Options{
		Policy:            verify.Policy{Identities: []string{sum.Identity}, Issuers: []string{sum.Issuer}},
		InsecureIgnoreSCT: cfg.InsecureIgnoreSCT,
		Log:               log,
	})
	if err != nil {
		return nil, fmt.Errorf("checking the new signature: %w", err)
	}
	return v, nil
}

// selfCheck verifies a new signature the way a verifier will (chain, SCT,
// log entry, timestamp, and that it names the identity it was made for),
// before git stores it. An online-mode signature is checked against the
// entry the signer just uploaded, with no request to the log. It runs when
// the trust material for the Fulcio in use is known: a configured trusted
// root, or the public-good instance, whose root is built in.
func selfCheck(ctx context.Context, cfg *config.Config, payload []byte, sig *gitsign.Signature) error {
	if !selfChecks(cfg) {
		return nil
	}
	var log verify.Log
	if cfg.RekorMode == gitsign.Online {
		if sig.Entry == nil {
			return errors.New("checking the new signature: the online-mode signature has no log entry")
		}
		log = uploadedEntry{entry: sig.Entry, where: cfg.Rekor}
	}
	v, err := selfVerifier(cfg, sig.Cert, log)
	if err != nil {
		return err
	}
	objectID := func() (string, error) {
		obj, typ, err := gitobj.WithSignature(payload, sig.PEM)
		if err != nil {
			return "", err
		}
		return gitobj.ID(typ, obj), nil
	}
	if _, err := v.Verify(ctx, payload, sig.PEM, objectID); err != nil {
		return fmt.Errorf("the new signature does not verify, so it was not used: %w", err)
	}
	return nil
}

// uploadedEntry is the verify.Log of a signature just made: it answers
// every lookup with the one entry the signer uploaded, which the verifier
// then checks against the object id and the certificate like any other.
type uploadedEntry struct {
	entry *protorekor.TransparencyLogEntry
	where string
}

// Entries returns the uploaded entry.
func (u uploadedEntry) Entries(context.Context, []byte, *x509.Certificate) ([]*protorekor.TransparencyLogEntry, error) {
	return []*protorekor.TransparencyLogEntry{u.entry}, nil
}

// Where is the log the entry was uploaded to.
func (u uploadedEntry) Where() string { return u.where }

func reportSigned(msgs *tty.Messages, sig *gitsign.Signature, mode string) {
	who, issuer := certinfo.Names(sig.Cert)
	index := int64(-1)
	if sig.Entry != nil {
		index = sig.Entry.LogIndex
	}
	msgs.Infof("signed as %s (issuer %s); transparency log index %d (%s mode)", who, issuer, index, mode)
}

// statusFor returns the status writer for fd; 1 and 2 follow the streams.
func statusFor(fd int, s streams) *gpg.Status {
	switch fd {
	case 1:
		return gpg.NewStatusWriter(s.out)
	case 2:
		return gpg.NewStatusWriter(s.err)
	}
	return gpg.NewStatus(fd)
}
