package docgen

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gitsign-dev/gitsign/cache"
	"github.com/gitsign-dev/gitsign/internal/config"
	"github.com/gitsign-dev/gitsign/oauth"
)

// cobra/doc writes NAME, SYNOPSIS, DESCRIPTION, OPTIONS and SEE ALSO from
// a command. The sections below are what a command definition does not
// hold: the settings (from internal/config, the table that Parse reads),
// the environment, the files, and the exit status. They go before SEE
// ALSO, which gains the pages cobra does not know of.

// Precedence says in what order settings apply, for every page and doc
// that lists them.
const Precedence = "gitsign reads its settings from git config (every scope git sees, git -c included, " +
	"read once with git config -z --list) and from the environment. Precedence, lowest first: " +
	"built-in defaults, git config, SIGSTORE_* variables, GITSIGN_* variables; where a setting has " +
	"several variables, a later one in its list wins. A single-valued key takes its last value; " +
	"a multi-valued key keeps every value, in order. Booleans take git's words (true, yes, on, 1; " +
	"false, no, off, 0; a key given without a value is true). A value that cannot be used is an " +
	"error naming the key or variable, and exit status 2, never silently replaced by a default."

// exitStatus is each page's EXIT STATUS, by page name (without section),
// for gitsign(1) and the commands whose exit status says more than it.
var exitStatus = map[string][][2]string{
	"gitsign": {
		{"0", "Success."},
		{"1", "Failure: a signature that did not verify, a login or a server that failed or refused."},
		{"2", "A mistake in the command line or the setup, reported before any work: an unknown command or flag, " +
			"a wrong number of arguments, a flag value that does not parse, an invalid setting, an identity policy " +
			"or allowed-signers file that cannot be applied, trust material (trusted root, pinned keys) that cannot be read, " +
			"a revision name git finds in more than one place, or gitsign verify or verify-tag outside a git repository."},
	},
	"gitsign-verify": {
		{"0", "Every commit the revisions and ranges name verified; with --allow-empty, also when they name none."},
		{"1", "A commit did not verify, or the ranges name no commit at all (nothing to verify) without --allow-empty."},
		{"2", "A mistake in the command line or the setup, as in gitsign(1): among them a policy that cannot be " +
			"applied, trust material that cannot be read, a revision name git finds in more than one place, no git repository."},
	},
	"gitsign-verify-tag": {
		{"0", "Every tag named verified."},
		{"1", "A tag did not verify."},
		{"2", "A mistake in the command line or the setup, as in gitsign(1): no tag named, a policy that cannot be applied."},
	},
	"gitsign-attest": {
		{"0", "The attestation was signed, logged and stored; its commit's id is on standard output."},
		{"1", "Signing, the log, the timestamp authority or git failed; nothing was stored."},
		{"2", "A mistake in the command line or the setup: no -f, an --objtype other than commit or tree, an invalid setting."},
	},
	"gitsign-verify-attestation": {
		{"0", "Every object named has at least one attestation (of the --type given) that verified."},
		{"1", "An object has none that verified: none stored, or each failed (each failure is reported)."},
		{"2", "A mistake in the command line or the setup, as in gitsign verify."},
	},
	"gitsign-pre-receive": {
		{"0", "The push is accepted. Any other status refuses the whole push."},
		{"1", "An object or a ref update was refused, or the push could not be checked (no policy, a trusted root that does not load, input git did not give)."},
		{"2", "The setup is wrong: an invalid setting, or an identity policy in git config in place of an allowed-signers file."},
	},
	"gitsign-initialize": {
		{"0", "The trusted root was fetched and cached."},
		{"1", "The TUF repository failed, or did not answer within --timeout."},
		{"2", "A bad flag (--mirror without --root, a --timeout not above 0) or an invalid setting."},
	},
	"gitsign-setup": {
		{"0", "git and the agent are set up (or, with --undo, put back), or there was nothing to change."},
		{"1", "git config, systemctl or launchctl failed."},
		{"2", "A mistake in the command line or the setup: --global with --local, --local outside a git repository, an invalid setting."},
	},
	"gitsign-doctor": {
		{"0", "No check failed; warnings may have been printed."},
		{"1", "At least one check failed: its line says what is wrong and how to fix it."},
		{"2", "A mistake in the command line."},
	},
	"gitsign-credential-cache": {
		{"0", "The agent stopped cleanly (SIGTERM or SIGINT), or --help or --version was given."},
		{"1", "The agent could not listen (another agent on the socket, a directory other users can write to) or stopped on an error."},
		{"2", "A mistake in the command line."},
	},
}

// seeAlso are pages cobra does not know of, added to SEE ALSO.
var seeAlso = map[string][]string{
	"gitsign":                    {"gitsign-credential-cache(1)", "gitsign-allowed-signers(5)", "git-config(1)"},
	"gitsign-verify":             {"gitsign-allowed-signers(5)"},
	"gitsign-verify-tag":         {"gitsign-allowed-signers(5)"},
	"gitsign-pre-receive":        {"gitsign-allowed-signers(5)", "githooks(5)"},
	"gitsign-show":               {"gitsign-allowed-signers(5)"},
	"gitsign-attest":             {"gitsign-verify-attestation(1)"},
	"gitsign-verify-attestation": {"gitsign-attest(1)", "gitsign-allowed-signers(5)"},
	"gitsign-credential-cache":   {"gitsign(1)", "gitsign-cache(1)"},
}

// extraSections returns the sections page (a file name without its
// section number) gets; "" for none.
func extraSections(page string) string {
	r := &roff{}
	switch page {
	case "gitsign":
		configurationSection(r)
	}
	if codes, ok := exitStatus[page]; ok {
		r.section("EXIT STATUS")
		for _, c := range codes {
			r.item(bold(c[0]), c[1])
		}
	}
	switch page {
	case "gitsign":
		environmentSection(r)
		filesSection(r)
	case "gitsign-credential-cache":
		agentSections(r)
	case "gitsign-setup":
		r.section("FILES")
		r.item(bold("~/.config/gitsign/setup.json"),
			"What gitsign setup changed (each git config key with its previous values, the files it wrote, the services it enabled), so that --undo puts back only that: gitsign/setup.json in the user's config directory ($XDG_CONFIG_HOME or ~/.config on Linux, ~/Library/Application Support on macOS).")
		r.item(bold("~/.config/systemd/user/gitsign-credential-cache.socket")+", "+bold(".service"),
			"The agent's systemd user units, written by gitsign setup where a user manager runs, naming the agent where it is installed.")
		r.item(bold("~/Library/LaunchAgents"),
			"On macOS, the agent's LaunchAgent io.github.gitsign-dev.gitsign-credential-cache.plist, written and loaded by gitsign setup.")
	}
	return r.String()
}

// addSections inserts the extra sections of every page in dir before its
// SEE ALSO (or at its end), and extends SEE ALSO.
func addSections(dir string) error {
	pages, err := filepath.Glob(filepath.Join(dir, "*.1"))
	if err != nil {
		return err
	}
	for _, path := range pages {
		page := strings.TrimSuffix(filepath.Base(path), ".1")
		extra, more := extraSections(page), seeAlso[page]
		if extra == "" && len(more) == 0 {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		text := string(b)
		before, after, found := strings.Cut(text, "\n.SH SEE ALSO\n")
		if !found {
			before, after = strings.TrimRight(text, "\n"), ""
		}
		var refs []string
		for _, p := range more {
			name, sec, _ := strings.Cut(strings.TrimSuffix(p, ")"), "(")
			refs = append(refs, fmt.Sprintf(`\fB%s(%s)\fP`, name, sec)) // as cobra writes them
		}
		after = strings.TrimRight(after, "\n")
		if after != "" && len(refs) > 0 {
			after += ", "
		}
		after += strings.Join(refs, ", ")
		text = strings.TrimRight(before, "\n") + "\n" + extra + "\n.SH SEE ALSO\n" + after + "\n"
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// configurationSection lists every git config key.
func configurationSection(r *roff) {
	r.section("CONFIGURATION")
	r.para(Precedence)
	for _, d := range config.Documented() {
		if d.Key == "" {
			continue
		}
		var facts []string
		if def := defaultText(d); def != "" {
			facts = append(facts, "Default: "+def)
		}
		if d.Multi {
			facts = append(facts, "Multi-valued: give it once per value")
		}
		if len(d.Env) > 0 {
			facts = append(facts, "Environment: "+strings.Join(d.Env, ", "))
		}
		r.item(bold(d.Key)+" "+italic("("+d.Kind+")"), d.Text)
		r.facts(facts...)
	}
}

// defaultText is a Doc's default in words, "" when there is none.
func defaultText(d config.Doc) string {
	switch {
	case d.Default != "" && d.DefaultNote != "":
		return d.Default + " (" + d.DefaultNote + ")"
	case d.Default != "":
		return d.Default
	}
	return d.DefaultNote
}

// environmentSection lists every variable: those of a git config key
// point to it, the others are described in full.
func environmentSection(r *roff) {
	r.section("ENVIRONMENT")
	r.para("Each variable of a git config key overrides it (see CONFIGURATION); of a key's SIGSTORE_ and GITSIGN_ variables, the GITSIGN_ one wins.")
	for _, d := range config.Documented() {
		var names []string
		for _, v := range d.Env {
			names = append(names, bold(v))
		}
		switch {
		case len(names) == 0:
		case d.Key != "":
			r.item(strings.Join(names, ", "), "Set "+d.Key+".")
		default:
			r.item(strings.Join(names, ", ")+" "+italic("("+d.Kind+")"), d.Text)
			if def := defaultText(d); def != "" {
				r.facts("Default: " + def)
			}
		}
	}
	r.item(bold(oauth.EnvActionsRequestURL)+", "+bold(oauth.EnvActionsRequestToken),
		"Set by GitHub Actions in a job with the id-token: write permission: the automatic token provider then gets the ID token from GitHub's token service.")
	r.item(bold(oauth.EnvBuildkiteAgentToken),
		"Set by the Buildkite agent in each job: the buildkite-agent token provider requires it, and runs buildkite-agent oidc request-token.")
	r.item(bold(oauth.EnvGCEMetadataHost),
		"The host of the GCE/GKE metadata server the google-workload-identity token provider asks (metadata.google.internal when unset), as in Google's libraries. google-impersonate asks it too, for an access token, when it finds no credentials file.")
	r.item(bold(oauth.EnvGoogleServiceAccountName),
		"The email address of the service account whose identity token the google-impersonate token provider gets from Google's IAM Credentials API (the reference's variable).")
	r.item(bold(oauth.EnvGoogleApplicationCredentials),
		"A Google credentials file (Application Default Credentials) that google-impersonate authorizes its request with: user credentials, a service account key, a workload identity federation configuration or an impersonated service account. Unset, it uses the file gcloud auth application-default login writes, else the metadata server's service account.")
	r.item(bold(oauth.EnvGoogleQuotaProject),
		"The Google Cloud project that google-impersonate's request is billed to, over the quota_project_id of the credentials file, as in Google's libraries.")
	r.item(bold(oauth.EnvSPIFFEEndpointSocket),
		"The socket of the SPIFFE Workload API (a SPIRE agent) that the spiffe token provider asks for a JWT-SVID: a path or a unix:///path URI ("+oauth.DefaultSPIFFESocket+" when unset).")
}

// filesSection lists the files gitsign reads and writes.
func filesSection(r *roff) {
	r.section("FILES")
	r.item(bold("~/.sigstore/tuf"),
		"The TUF cache: the trusted root gitsign initialize fetches, which verification then uses with no network. TUF_ROOT names another directory.")
	r.item(bold("~/.cache/gitsign/cache.sock"),
		"The socket of the credential cache agent, gitsign-credential-cache(1): gitsign/cache.sock in the user's cache directory ($XDG_CACHE_HOME or ~/.cache on Linux, ~/Library/Caches on macOS). gitsign.credentialCache names another.")
	r.item(bold("~/.cache/gitsign/keyring-unavailable"),
		"Its modification time limits the warning that there is no OS keyring (gitsign.cache keyring) to once a day.")
	r.item(italic("the OS keyring")+", service "+bold(cache.KeyringService),
		"With gitsign.cache keyring: the cached key and certificate chain, until the certificate expires (Secret Service on Linux, the Keychain on macOS, the Credential Manager on Windows).")
	r.item(bold(".gitsigners"),
		"The allowed-signers file, by convention: who may sign, as gitsign.allowedSignersFile or --allowed-signers name it (gitsign pre-receive reads HEAD:.gitsigners unless told otherwise). Its format is in gitsign-allowed-signers(5).")
	r.item(bold(oauth.DefaultTokenFile),
		"The ID token the filesystem provider reads when gitsign.tokenFile is not set.")
	r.item(italic("the log file"),
		"gitsign.logPath (GITSIGN_LOG), when set: errors and warnings are appended to it. No log is kept otherwise.")
}

// agentSections are gitsign-credential-cache's ENVIRONMENT, FILES and
// SECURITY.
func agentSections(r *roff) {
	var socketVars []string
	for _, d := range config.Documented() {
		if d.Key == "gitsign.credentialCache" {
			socketVars = d.Env
		}
	}
	r.section("ENVIRONMENT")
	for _, v := range socketVars {
		r.item(bold(v), "The socket to listen on when --socket is not given. The agent reads no git config.")
	}
	r.item(bold("LISTEN_PID")+", "+bold("LISTEN_FDS"),
		"Set by systemd for a socket-activated service: with --systemd-socket-activation the agent serves the one socket they pass.")
	r.section("FILES")
	r.item(bold("~/.cache/gitsign/cache.sock"),
		"The default socket: gitsign/cache.sock in the user's cache directory ($XDG_CACHE_HOME or ~/.cache on Linux, ~/Library/Caches on macOS), where gitsign looks for the agent.")
	r.item(bold("gitsign-credential-cache.socket")+", "+bold("gitsign-credential-cache.service"),
		"systemd user units (contrib/systemd in the source): systemd owns the socket at the default path and starts the agent, with --systemd-socket-activation, on the first connection.")
	r.section("SECURITY")
	r.para("The agent's memory holds private keys that can sign as you until their certificates expire (10 minutes from login). It never writes them to disk, keeps its memory out of core dumps where it can, and forgets everything when it stops.")
	r.para("It creates the socket's directory 0700 and the socket 0600, refuses a directory other users can write to (unless sticky, like /tmp), never replaces a socket another agent is listening on, and removes a stale one. It checks the user id of every process that connects (SO_PEERCRED; LOCAL_PEERCRED on macOS and FreeBSD): other users are refused and logged. gitsign in turn refuses a socket owned by another user, or whose agent runs as another user.")
	r.para("Forwarding the socket over SSH lets anyone who can act as you on the remote machine, root included, sign as you while you are connected.")
}
