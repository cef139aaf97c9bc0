package rekor

// Binding an embedded entry's fields to what the log signed
//
// A log signs two things about an entry: the signed entry timestamp (SET,
// Rekor v1 only) covers the body, integrated time, log index and log id;
// the checkpoint covers the tree's size and root hash. Everything else in
// an embedded TransparencyLogEntry is unsigned, and sigstore-go (v1.3.0)
// does not compare all of it with the signed parts:
//
//   - Rekor v1: the inclusion proof is verified with the proof's own tree
//     size, and an RFC 6962 path verifies for many sizes with the same
//     inner/border split, so a proof's tree_size could be changed freely.
//   - Rekor v2: the proof is verified with the entry's log index and the
//     checkpoint's size and root hash; the proof's own log_index,
//     tree_size and root_hash, the entry's integrated_time and its body are
//     read by nobody.
//
// Any field that nobody checks lets a third party change a signature's
// bytes, and with them the id of the commit that carries it, while it
// stays good. CheckBinding refuses every such field that is not equal to
// the signed value it describes.

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
)

// Checkpoint is the signed body of a log checkpoint (a signed note): its
// origin line, tree size and root hash.
type Checkpoint struct {
	Origin   string
	Size     uint64
	RootHash []byte
}

// ParseCheckpoint reads the body of a checkpoint note: "ORIGIN\nSIZE\n
// BASE64(ROOT HASH)\n", then optional extension lines, a blank line and
// the signature lines. Its signature is not checked here (sigstore-go
// does that); this only reads the values the signature covers, each in
// its one canonical spelling.
func ParseCheckpoint(note string) (Checkpoint, error) {
	body, _, ok := strings.Cut(note, "\n\n")
	if !ok {
		return Checkpoint{}, errors.New("checkpoint is not a signed note")
	}
	lines := strings.Split(body, "\n")
	if len(lines) < 3 || lines[0] == "" {
		return Checkpoint{}, errors.New("checkpoint lacks its origin, size or root hash")
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil || strconv.FormatUint(size, 10) != lines[1] {
		return Checkpoint{}, fmt.Errorf("checkpoint size %q is not a canonical decimal number", lines[1])
	}
	hash, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(hash) != 32 || base64.StdEncoding.EncodeToString(hash) != lines[2] {
		return Checkpoint{}, errors.New("checkpoint root hash is not a canonical base64 SHA-256")
	}
	return Checkpoint{Origin: lines[0], Size: size, RootHash: hash}, nil
}

// CheckBinding checks that every field of an embedded entry that no
// signature covers equals the signed value it stands for, so that the
// entry has one encoding (see the comment at the top of this file). The
// rules, by entry version:
//
//   - every entry carries an inclusion proof with a checkpoint; the
//     proof's tree_size and root_hash are the checkpoint's size and root
//     hash, and its log_index lies inside that tree;
//   - hashedrekord v0.0.1 (Rekor v1) carries its SET, always: the SET is
//     what binds the entry's log index and integrated time, which are
//     reported, and with a timestamp token also relied on. The proof's
//     log_index is the index inside the log's current shard, so it is the
//     entry's log index less the shard's start (public-good: 121,904,262
//     less since 2022), never more; with the tree size fixed, the proof
//     verifies at one leaf position only, which binds it;
//   - hashedrekord v0.0.2 (Rekor v2) has no SET and no integrated time
//     (Rekor v2 signs neither: a timestamp authority vouches for the
//     time), and its proof's log_index is the entry's.
//
// The body is the caller's to check: it must be rebuilt from the
// signature (HashedRekordV001, HashedRekordV002) and never taken as sent.
func CheckBinding(tle *protorekor.TransparencyLogEntry) error {
	proof := tle.GetInclusionProof()
	if proof == nil || proof.GetCheckpoint().GetEnvelope() == "" {
		return errors.New("log entry: no inclusion proof with a checkpoint")
	}
	cp, err := ParseCheckpoint(proof.GetCheckpoint().GetEnvelope())
	if err != nil {
		return fmt.Errorf("log entry: %w", err)
	}
	if proof.GetTreeSize() < 0 || uint64(proof.GetTreeSize()) != cp.Size {
		return fmt.Errorf("log entry: inclusion proof tree_size %d is not its checkpoint's size %d", proof.GetTreeSize(), cp.Size)
	}
	if !bytes.Equal(proof.GetRootHash(), cp.RootHash) {
		return errors.New("log entry: inclusion proof root_hash is not its checkpoint's root hash")
	}
	if proof.GetLogIndex() < 0 || proof.GetLogIndex() >= proof.GetTreeSize() {
		return fmt.Errorf("log entry: inclusion proof log_index %d is outside its tree of size %d", proof.GetLogIndex(), proof.GetTreeSize())
	}
	switch v := tle.GetKindVersion().GetVersion(); v {
	case "0.0.1":
		if len(tle.GetInclusionPromise().GetSignedEntryTimestamp()) == 0 {
			return errors.New("log entry: a Rekor v1 entry must carry its signed entry timestamp (inclusion_promise), which binds its log_index and integrated_time")
		}
		if proof.GetLogIndex() > tle.GetLogIndex() {
			return fmt.Errorf("log entry: inclusion proof log_index %d is past the entry's log_index %d", proof.GetLogIndex(), tle.GetLogIndex())
		}
	case "0.0.2":
		if tle.GetInclusionPromise() != nil {
			return errors.New("log entry: a Rekor v2 entry carries an inclusion_promise, which Rekor v2 does not make")
		}
		if tle.GetIntegratedTime() != 0 {
			return fmt.Errorf("log entry: a Rekor v2 entry carries integrated_time %d, which Rekor v2 does not sign", tle.GetIntegratedTime())
		}
		if proof.GetLogIndex() != tle.GetLogIndex() {
			return fmt.Errorf("log entry: inclusion proof log_index %d is not the entry's log_index %d", proof.GetLogIndex(), tle.GetLogIndex())
		}
	default:
		return fmt.Errorf("log entry: hashedrekord version %q, want 0.0.1 (Rekor v1) or 0.0.2 (Rekor v2)", v)
	}
	return nil
}
