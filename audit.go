package standing

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"
)

// AuditEntry records one change of standing: who or what made it, why, and the standing
// before and after. Entries are append-only and hash-chained: each Hash covers the entry's
// fields and the previous entry's Hash, so editing or removing a row shows.
//
// Personal data (free-text notes that may name the person) is kept apart in Personal. The
// chain covers only PersonalHash, a salted hash of it, so an erasure can clear Personal and
// PersonalSalt and the chain still verifies, while nobody can confirm a guess of the erased
// text from the hash that stays.
type AuditEntry struct {
	Seq          int64     `json:"seq"`
	ID           string    `json:"id"`
	At           time.Time `json:"at"`
	AccountID    string    `json:"account_id"`
	Actor        string    `json:"actor"`
	Action       string    `json:"action"`
	SubjectID    string    `json:"subject_id,omitempty"`
	Reason       string    `json:"reason,omitempty"`
	Before       string    `json:"-"` // JSON Summary
	After        string    `json:"-"` // JSON Summary
	Personal     string    `json:"personal,omitempty"`
	PersonalSalt string    `json:"-"`
	PersonalHash string    `json:"-"`
	PrevHash     string    `json:"prev_hash"`
	Hash         string    `json:"hash"`
}

// Audit actions.
const (
	AuditAccountCreated     = "account.created"
	AuditLifecycleChanged   = "account.lifecycle_changed"
	AuditProfileChanged     = "account.profile_changed"
	AuditRestrictionAdded   = "restriction.added"
	AuditRestrictionLifted  = "restriction.lifted"
	AuditRestrictionExpired = "restriction.expired"
)

// SealPersonal sets the salt and hash of e.Personal. Call it before ComputeHash.
func (e *AuditEntry) SealPersonal() {
	if e.Personal == "" {
		e.PersonalSalt, e.PersonalHash = "", ""
		return
	}
	if e.PersonalSalt == "" {
		e.PersonalSalt = RandomToken(16)
	}
	e.PersonalHash = personalHash(e.PersonalSalt, e.Personal)
}

func personalHash(salt, personal string) string {
	h := sha256.Sum256([]byte(salt + "\x00" + personal))
	return hex.EncodeToString(h[:])
}

// ComputeHash returns the chain hash of e over prevHash. Every field is length-prefixed so
// no two different entries encode alike.
func (e *AuditEntry) ComputeHash(prevHash string) string {
	h := sha256.New()
	var n [8]byte
	put := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	put(prevHash)
	put(strconv.FormatInt(e.Seq, 10))
	put(e.ID)
	put(strconv.FormatInt(e.At.UnixMicro(), 10))
	put(e.AccountID)
	put(e.Actor)
	put(e.Action)
	put(e.SubjectID)
	put(e.Reason)
	put(e.Before)
	put(e.After)
	put(e.PersonalHash)
	return hex.EncodeToString(h.Sum(nil))
}

// AuditProblem names the first entry of the chain that does not verify.
type AuditProblem struct {
	Seq     int64  `json:"seq"`
	ID      string `json:"id"`
	Problem string `json:"problem"`
}

// VerifyChain checks entries, which must be consecutive from the start of the chain or
// follow prev (the hash and seq of the entry before them). It returns the first problem.
func VerifyChain(entries []AuditEntry, prevHash string, prevSeq int64) *AuditProblem {
	for i := range entries {
		e := &entries[i]
		if e.Seq != prevSeq+1 {
			return &AuditProblem{Seq: e.Seq, ID: e.ID, Problem: "sequence gap: entry " + strconv.FormatInt(prevSeq+1, 10) + " is missing"}
		}
		if e.PrevHash != prevHash {
			return &AuditProblem{Seq: e.Seq, ID: e.ID, Problem: "prev_hash does not match the hash of the entry before it"}
		}
		if e.Personal != "" || e.PersonalSalt != "" {
			if personalHash(e.PersonalSalt, e.Personal) != e.PersonalHash {
				return &AuditProblem{Seq: e.Seq, ID: e.ID, Problem: "personal data does not match its sealed hash"}
			}
		}
		if e.ComputeHash(prevHash) != e.Hash {
			return &AuditProblem{Seq: e.Seq, ID: e.ID, Problem: "hash does not match the entry's contents"}
		}
		prevHash, prevSeq = e.Hash, e.Seq
	}
	return nil
}

// MarshalJSON writes the entry with Before and After as JSON objects rather than strings.
func (e AuditEntry) MarshalJSON() ([]byte, error) {
	type plain AuditEntry
	raw := func(s string) json.RawMessage {
		if s == "" {
			return nil
		}
		return json.RawMessage(s)
	}
	return json.Marshal(struct {
		plain
		Before json.RawMessage `json:"before,omitempty"`
		After  json.RawMessage `json:"after,omitempty"`
	}{plain(e), raw(e.Before), raw(e.After)})
}
