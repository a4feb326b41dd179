// Package appeals runs the appeal side of Standing: evidence uploads (checked, cleaned and
// stored before an appeal is filed, so a bad file never costs the rest of the form),
// filing with review deadlines, the thread between the person and the reviewers, the
// reviewers' decisions (always by a person; two for overturning fraud), short-lived
// signed links to evidence for reviewers, and the sweeps that escalate late appeals and
// remove files that were never attached.
package appeals

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"standing"
	"standing/auth"
	"standing/evidence"
	"standing/sqlstore"
)

// Store is what appeals needs of the storage.
type Store interface {
	standing.AccountReader
	standing.RestrictionReader
	StageEvidence(ctx context.Context, e standing.Evidence) (standing.Evidence, error)
	StagedEvidence(ctx context.Context, accountID string, ids []string) ([]standing.Evidence, error)
	Evidence(ctx context.Context, id string) (standing.Evidence, error)
	StaleStagedEvidence(ctx context.Context, before time.Time, limit int) ([]standing.Evidence, error)
	DeleteEvidenceRow(ctx context.Context, id string) error
	EvidenceKeyExists(ctx context.Context, key string) (bool, error)
	SubmitAppeal(ctx context.Context, na standing.NewAppeal, required []string) (standing.Appeal, error)
	Appeal(ctx context.Context, id string) (standing.Appeal, error)
	ClosedOrder(ctx context.Context, accountID, orderID string) (sqlstore.ClosedOrder, error)
	AppealsOf(ctx context.Context, accountID string) ([]standing.Appeal, error)
	Queue(ctx context.Context, f standing.QueueFilter) ([]standing.Appeal, error)
	QueueStats(ctx context.Context) (int, time.Time, int, error)
	Claim(ctx context.Context, appealID string, by standing.StaffUser, assignee string) error
	AddAppealMessage(ctx context.Context, appealID, author string, fromStaff bool, body string, evidenceIDs []string) error
	DecideAppeal(ctx context.Context, appealID string, by standing.StaffUser, decision, note string, texts func(standing.Appeal, string) standing.Mail) (sqlstore.DecideResult, error)
	EscalateAppeals(ctx context.Context, now time.Time) (int, int, error)
	Votes(ctx context.Context, appealID string) ([]string, error)
	CreateStaff(ctx context.Context, u standing.StaffUser, passwordHash string) (standing.StaffUser, error)
	StaffCredentials(ctx context.Context, email string) (standing.StaffUser, string, error)
	Staff(ctx context.Context, id string) (standing.StaffUser, error)
	StaffUsers(ctx context.Context) ([]standing.StaffUser, error)
	CreateStaffSession(ctx context.Context, id, staffID string, expires int64) error
	StaffSession(ctx context.Context, id string) (standing.StaffUser, error)
	RevokeStaffSession(ctx context.Context, id string) error
}

// Blobs is the evidence file store.
type Blobs interface {
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	Delete(ctx context.Context, key string) error
	Keys(ctx context.Context, prefix string, fn func(key string, modTime time.Time) error) error
}

// Inspector checks an uploaded file; *evidence.Inspector is the real one.
type Inspector interface {
	Inspect(ctx context.Context, field, filename string, r io.Reader) (*evidence.File, error)
}

// Service runs appeals.
type Service struct {
	store   Store
	blobs   Blobs
	inspect Inspector
	clock   standing.Clock
	policy  func() *standing.Policy
	baseURL string
	secret  []byte
}

// New returns the appeals service. secret signs the reviewers' evidence links.
func New(store Store, blobs Blobs, inspect Inspector, clock standing.Clock, policy func() *standing.Policy, baseURL string, secret []byte) *Service {
	return &Service{store: store, blobs: blobs, inspect: inspect, clock: clock, policy: policy, baseURL: strings.TrimSuffix(baseURL, "/"), secret: secret}
}

// Limits of an appeal sent as a multipart form, on the API and on the pages: each text
// field, the text of all fields together, and the number of parts (text and files).
const (
	MaxTextField = 64 << 10
	MaxText      = 1 << 20
	MaxParts     = 100
)

// MaxBody bounds the body of an appeal form: standing.MaxEvidence documents at the
// policy's largest file limit, plus the text.
func MaxBody(p *standing.Policy) int64 {
	e := p.Evidence
	return int64(standing.MaxEvidence)*int64(max(e.PhotoMax, e.PDFMax, e.VideoMax)) + MaxText
}

// Account returns the account an appeal is filed for, so that a form naming an account
// that cannot appeal is refused before any of its files is stored. Errors name the field
// account_id: ENOTFOUND for no such account, EGONE for an erased one, ECONFLICT while it
// is being deleted.
func (s *Service) Account(ctx context.Context, id string) (standing.Account, error) {
	if !safeID(id) {
		return standing.Account{}, errNoAccount
	}
	a, err := s.store.Account(ctx, id)
	switch {
	case standing.ErrorCode(err) == standing.ENOTFOUND:
		return a, errNoAccount
	case err != nil:
		return a, err
	case a.Lifecycle == standing.LifecycleErased:
		return a, standing.FieldErrorf(standing.EGONE, "account_id", "The account was erased; it cannot appeal.")
	case a.Lifecycle == standing.LifecycleClosing:
		return a, standing.FieldErrorf(standing.ECONFLICT, "account_id", "This account is being deleted; it cannot appeal.")
	}
	return a, nil
}

var errNoAccount = standing.FieldErrorf(standing.ENOTFOUND, "account_id", "There is no such account.")

// safeID reports whether id can be an id Standing made (letters, digits, _ and -), and so
// a segment of an evidence key.
func safeID(id string) bool {
	if id == "" || len(id) > 100 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Upload checks one file (type from the bytes, size from the policy, metadata stripped,
// no full card number), stores it and stages it for the account's appeal. field names
// the form field, so an error can be shown next to it. The caller has checked the account
// (Account); an id that cannot be one is ENOTFOUND naming account_id. Errors never show
// where the file is stored.
func (s *Service) Upload(ctx context.Context, accountID, slot, field, filename string, r io.Reader) (standing.Evidence, error) {
	if slot == "" {
		slot = "other"
	}
	if !safeID(accountID) {
		return standing.Evidence{}, errNoAccount
	}
	f, err := s.inspect.Inspect(ctx, field, filename, r)
	if err != nil {
		return standing.Evidence{}, err
	}
	now := s.clock.Now()
	e := standing.Evidence{ID: standing.NewID("evd", now), AccountID: accountID, Slot: slot, Filename: f.Name,
		Kind: string(f.Kind), ContentType: f.MIME, Size: int64(len(f.Data))}
	e.Key = "evidence/" + accountID + "/" + e.ID + f.Ext
	if err := s.blobs.Put(ctx, e.Key, bytes.NewReader(f.Data), int64(len(f.Data)), f.MIME); err != nil {
		// Not wrapped: the store's error names the key, and the caller sees an internal error.
		return e, fmt.Errorf("store evidence %s: %s", e.ID, err)
	}
	staged, err := s.store.StageEvidence(ctx, e)
	if err != nil {
		_ = s.blobs.Delete(context.WithoutCancel(ctx), e.Key)
		return e, err
	}
	return staged, nil
}

// Staged returns the account's staged uploads among ids.
func (s *Service) Staged(ctx context.Context, accountID string, ids []string) ([]standing.Evidence, error) {
	return s.store.StagedEvidence(ctx, accountID, ids)
}

// Requirements returns the documents an appeal against the reason asks for.
func (s *Service) Requirements(reasonCode string) []standing.DocumentRequest {
	if r, ok := s.policy().Reason(reasonCode); ok {
		return r.Documents
	}
	return nil
}

// Submit files an appeal. The statement is required; an urgent appeal needs its reason.
func (s *Service) Submit(ctx context.Context, na standing.NewAppeal) (standing.Appeal, error) {
	na.Statement = strings.TrimSpace(na.Statement)
	na.UrgentReason = strings.TrimSpace(na.UrgentReason)
	switch {
	case na.Statement == "":
		return standing.Appeal{}, standing.FieldErrorf(standing.EINVALID, "statement", "Tell the reviewer in a few sentences why the decision is wrong.")
	case utf8.RuneCountInString(na.Statement) > standing.MaxStatementLen:
		return standing.Appeal{}, standing.FieldErrorf(standing.EINVALID, "statement", "Keep the statement under %d characters; attach documents for the details.", standing.MaxStatementLen)
	case na.Urgent && na.UrgentReason == "":
		return standing.Appeal{}, standing.FieldErrorf(standing.EINVALID, "urgent_reason", "Say why it is urgent (for example: open orders of your customers wait for you).")
	case utf8.RuneCountInString(na.UrgentReason) > 500:
		return standing.Appeal{}, standing.FieldErrorf(standing.EINVALID, "urgent_reason", "Keep the reason for urgency under 500 characters.")
	case len(na.EvidenceIDs) > standing.MaxEvidence:
		return standing.Appeal{}, standing.FieldErrorf(standing.EINVALID, "evidence", "Attach at most %d documents.", standing.MaxEvidence)
	}
	reason := s.reasonOf(ctx, na)
	var required []string
	for _, d := range s.Requirements(reason) {
		if d.Required {
			required = append(required, d.Key)
		}
	}
	return s.store.SubmitAppeal(ctx, na, required)
}

// reasonOf finds the reason an appeal contests, to know which documents it needs: the
// restriction's, or the closed order's (risk_review when the order kept none), as the form
// asked for them. Errors are left to the store, which checks ownership.
func (s *Service) reasonOf(ctx context.Context, na standing.NewAppeal) string {
	switch {
	case na.RestrictionID != "":
		if r, err := s.store.Restriction(ctx, na.RestrictionID); err == nil && r.AccountID == na.AccountID {
			return r.ReasonCode
		}
	case na.OrderID != "":
		if o, err := s.ClosedOrder(ctx, na.AccountID, na.OrderID); err == nil {
			return o.ReasonCode
		}
	}
	return ""
}

// AppealOf returns the account's appeal; another account's appeal is "not found".
func (s *Service) AppealOf(ctx context.Context, accountID, appealID string) (standing.Appeal, error) {
	a, err := s.store.Appeal(ctx, appealID)
	if err != nil || a.AccountID != accountID {
		return standing.Appeal{}, standing.Errorf(standing.ENOTFOUND, "There is no such appeal on your account.")
	}
	return a, nil
}

// AppealsOf lists the account's appeals, newest first.
func (s *Service) AppealsOf(ctx context.Context, accountID string) ([]standing.Appeal, error) {
	return s.store.AppealsOf(ctx, accountID)
}

// ClosedOrder returns the account's order closed by risk; another account's order, or one
// not closed by risk, is refused.
func (s *Service) ClosedOrder(ctx context.Context, accountID, orderID string) (sqlstore.ClosedOrder, error) {
	o, err := s.store.ClosedOrder(ctx, accountID, orderID)
	if err != nil {
		return o, err
	}
	if o.ReasonCode == "" {
		o.ReasonCode = standing.ReasonRiskReview
	}
	return o, nil
}

// Reply adds the person's message and documents to their appeal.
func (s *Service) Reply(ctx context.Context, accountID, appealID, body string, evidenceIDs []string) error {
	if _, err := s.AppealOf(ctx, accountID, appealID); err != nil {
		return err
	}
	body = strings.TrimSpace(body)
	if body == "" && len(evidenceIDs) == 0 {
		return standing.FieldErrorf(standing.EINVALID, "body", "Write a message or attach a document.")
	}
	if utf8.RuneCountInString(body) > standing.MaxMessageLen {
		return standing.FieldErrorf(standing.EINVALID, "body", "Keep the message under %d characters.", standing.MaxMessageLen)
	}
	return s.store.AddAppealMessage(ctx, appealID, "person", false, body, evidenceIDs)
}

// OpenEvidence opens one of the account's own evidence files; another account's file is
// "not found".
func (s *Service) OpenEvidence(ctx context.Context, accountID, evidenceID string) (standing.Evidence, io.ReadCloser, error) {
	e, err := s.store.Evidence(ctx, evidenceID)
	if err != nil || e.AccountID != accountID {
		return standing.Evidence{}, nil, standing.Errorf(standing.ENOTFOUND, "There is no such document on your account.")
	}
	rc, err := s.open(ctx, e)
	return e, rc, err
}

// open opens an evidence file; errors do not show where it is stored.
func (s *Service) open(ctx context.Context, e standing.Evidence) (io.ReadCloser, error) {
	rc, err := s.blobs.Open(ctx, e.Key)
	switch {
	case standing.ErrorCode(err) == standing.ENOTFOUND:
		return nil, standing.Errorf(standing.ENOTFOUND, "The file of document %s is missing from the evidence store.", e.ID)
	case err != nil:
		return nil, fmt.Errorf("open evidence %s: %s", e.ID, err)
	}
	return rc, nil
}

// EvidenceLink returns a link to an evidence file that works for the policy's link
// lifetime, and only for a signed-in reviewer.
func (s *Service) EvidenceLink(evidenceID string) string {
	exp := s.clock.Now().Add(s.policy().Evidence.LinkTTL.D()).Unix()
	return "/console/evidence/" + evidenceID + "?exp=" + strconv.FormatInt(exp, 10) + "&sig=" + s.sign(evidenceID, exp)
}

func (s *Service) sign(id string, exp int64) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(id + "\x00" + strconv.FormatInt(exp, 10)))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// OpenSignedEvidence checks a reviewer's evidence link and opens the file. An expired or
// altered link is refused.
func (s *Service) OpenSignedEvidence(ctx context.Context, evidenceID, exp, sig string) (standing.Evidence, io.ReadCloser, error) {
	e64, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !hmac.Equal([]byte(sig), []byte(s.sign(evidenceID, e64))) {
		return standing.Evidence{}, nil, standing.Errorf(standing.EFORBIDDEN, "This evidence link is not valid. Open the document from the case page.")
	}
	if s.clock.Now().Unix() > e64 {
		return standing.Evidence{}, nil, standing.Errorf(standing.EGONE, "This evidence link expired. Open the document again from the case page.")
	}
	e, err := s.store.Evidence(ctx, evidenceID)
	if err != nil {
		return e, nil, err
	}
	rc, err := s.open(ctx, e)
	return e, rc, err
}

// SweepStaged deletes uploads never attached to an appeal within a day, and blobs that
// have no row (a crash between storing the file and recording it).
func (s *Service) SweepStaged(ctx context.Context, now time.Time) error {
	before := now.Add(-24 * time.Hour)
	stale, err := s.store.StaleStagedEvidence(ctx, before, 500)
	if err != nil {
		return err
	}
	for _, e := range stale {
		if err := s.blobs.Delete(ctx, e.Key); err != nil {
			return err
		}
		if err := s.store.DeleteEvidenceRow(ctx, e.ID); err != nil {
			return err
		}
	}
	return s.blobs.Keys(ctx, "evidence/", func(key string, mod time.Time) error {
		if mod.After(before) {
			return nil
		}
		ok, err := s.store.EvidenceKeyExists(ctx, key)
		if err != nil || ok {
			return err
		}
		return s.blobs.Delete(ctx, key)
	})
}

// Escalate raises late appeals in the queue.
func (s *Service) Escalate(ctx context.Context, now time.Time) error {
	_, _, err := s.store.EscalateAppeals(ctx, now)
	return err
}

// Console reads.

// Appeal returns any appeal (for reviewers).
func (s *Service) Appeal(ctx context.Context, id string) (standing.Appeal, error) {
	return s.store.Appeal(ctx, id)
}

// Queue returns the console's queue.
func (s *Service) Queue(ctx context.Context, f standing.QueueFilter) ([]standing.Appeal, error) {
	return s.store.Queue(ctx, f)
}

// Stats counts open appeals, the oldest submission, and breaches.
func (s *Service) Stats(ctx context.Context) (int, time.Time, int, error) {
	return s.store.QueueStats(ctx)
}

// StaffUsers lists reviewers and admins.
func (s *Service) StaffUsers(ctx context.Context) ([]standing.StaffUser, error) {
	return s.store.StaffUsers(ctx)
}

// Claim assigns an appeal to a reviewer.
func (s *Service) Claim(ctx context.Context, appealID string, by standing.StaffUser, assignee string) error {
	if assignee != "" {
		if _, err := s.store.Staff(ctx, assignee); err != nil {
			return standing.FieldErrorf(standing.EINVALID, "assignee", "no reviewer %q", assignee)
		}
	}
	return s.store.Claim(ctx, appealID, by, assignee)
}

// Reviewer returns the staff user who decides through the API; a decision needs a person,
// and one still allowed to decide: EFORBIDDEN if there is no such user or they are
// disabled.
func (s *Service) Reviewer(ctx context.Context, id string) (standing.StaffUser, error) {
	u, err := s.store.Staff(ctx, id)
	switch {
	case standing.ErrorCode(err) == standing.ENOTFOUND || (err == nil && u.Disabled):
		return standing.StaffUser{}, standing.Errorf(standing.EFORBIDDEN, "reviewer %q is not an active console user, so they cannot decide appeals", id)
	case err != nil:
		return standing.StaffUser{}, err
	}
	return u, nil
}

// VotesWords says who voted how on an appeal that needs two reviewers.
func (s *Service) VotesWords(ctx context.Context, appealID string) string {
	votes, err := s.store.Votes(ctx, appealID)
	if err != nil || len(votes) == 0 {
		return "No votes yet."
	}
	var parts []string
	for _, v := range votes {
		parts = append(parts, v)
	}
	return "Votes so far: " + strings.Join(parts, "; ") + "."
}

// Staff sign-in.

// ErrStaffSignIn is the one answer to a wrong staff email or password.
var ErrStaffSignIn = standing.Errorf(standing.EUNAUTHORIZED, "The email or password is not right.")

// CreateStaff adds a reviewer or admin.
func (s *Service) CreateStaff(ctx context.Context, email, name string, role standing.StaffRole, password string) (standing.StaffUser, error) {
	if !role.Valid() {
		return standing.StaffUser{}, standing.FieldErrorf(standing.EINVALID, "role", "role must be reviewer or admin, not %q", role)
	}
	email = strings.ToLower(strings.TrimSpace(email))
	if !strings.Contains(email, "@") || len(email) > standing.MaxEmailLen {
		return standing.StaffUser{}, standing.FieldErrorf(standing.EINVALID, "email", "%q is not an email address", email)
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > standing.MaxNameLen {
		return standing.StaffUser{}, standing.FieldErrorf(standing.EINVALID, "name", "a staff user needs a name of 1 to %d characters", standing.MaxNameLen)
	}
	if err := auth.ValidatePassword(s.policy().SignIn, password, email); err != nil {
		return standing.StaffUser{}, err
	}
	return s.store.CreateStaff(ctx, standing.StaffUser{Email: email, Name: name, Role: role}, auth.HashPassword(password))
}

// StaffSignIn opens a console session and returns its token.
func (s *Service) StaffSignIn(ctx context.Context, email, password string) (string, standing.StaffUser, error) {
	u, hash, err := s.store.StaffCredentials(ctx, strings.ToLower(strings.TrimSpace(email)))
	if err != nil {
		auth.FakeCheckPassword(password)
		return "", u, ErrStaffSignIn
	}
	// The hash is checked for a disabled user too, so timing does not tell who is disabled.
	if ok := auth.CheckPassword(hash, password); !ok || u.Disabled {
		return "", u, ErrStaffSignIn
	}
	token := "st_" + standing.RandomToken(32)
	if err := s.store.CreateStaffSession(ctx, standing.HashToken(token), u.ID, s.clock.Now().Add(s.policy().SignIn.StaffSessionLifetime.D()).UnixMicro()); err != nil {
		return "", u, err
	}
	return token, u, nil
}

// StaffSession returns the staff user of a console session token.
func (s *Service) StaffSession(ctx context.Context, token string) (standing.StaffUser, error) {
	if !strings.HasPrefix(token, "st_") {
		return standing.StaffUser{}, standing.Errorf(standing.EUNAUTHORIZED, "Sign in to the console.")
	}
	u, err := s.store.StaffSession(ctx, standing.HashToken(token))
	if err != nil {
		return u, standing.Errorf(standing.EUNAUTHORIZED, "Your console session ended. Sign in again.")
	}
	return u, nil
}

// StaffSignOut ends a console session.
func (s *Service) StaffSignOut(ctx context.Context, token string) error {
	return s.store.RevokeStaffSession(ctx, standing.HashToken(token))
}

// Decide records a reviewer's decision and mails the person.
func (s *Service) Decide(ctx context.Context, by standing.StaffUser, appealID, decision, note string) (sqlstore.DecideResult, error) {
	note = strings.TrimSpace(note)
	if utf8.RuneCountInString(note) > standing.MaxMessageLen {
		return sqlstore.DecideResult{}, standing.FieldErrorf(standing.EINVALID, "note", "Keep the note under %d characters.", standing.MaxMessageLen)
	}
	return s.store.DecideAppeal(ctx, appealID, by, decision, note, s.decisionMail)
}

// ODSBodiesURL lists the out-of-court dispute settlement bodies certified under DSA Art. 21.
const ODSBodiesURL = "https://digital-strategy.ec.europa.eu/en/policies/dsa-out-of-court-dispute-settlement"

func (s *Service) decisionMail(a standing.Appeal, note string) standing.Mail {
	link := s.baseURL + "/appeals/" + a.ID
	switch a.Status {
	case standing.AppealOverturned:
		return standing.Mail{Kind: "appeal_decision", Subject: "Your appeal was accepted",
			Text: "Hello,\n\nA reviewer looked at your appeal and agreed with you: the decision is reversed and what it paused works again.\n\n" +
				"The reviewer wrote: " + note + "\n\nYour account page shows where you stand: " + s.baseURL + "/account\n"}
	case standing.AppealUpheld:
		return standing.Mail{Kind: "appeal_decision", Subject: "Your appeal was reviewed: the decision stays",
			Text: "Hello,\n\nA reviewer looked at your appeal and decided to keep the decision.\n\nThe grounds: " + note +
				"\n\nWhere to go next: you can take the decision to an out-of-court dispute settlement body certified under " +
				"Article 21 of the EU Digital Services Act (free or low cost for you; the list is at " + ODSBodiesURL +
				"), or to a court.\n\nThe appeal: " + link + "\n"}
	default:
		return standing.Mail{Kind: "appeal_needs_info", Subject: "Your appeal: the reviewer needs more",
			Text: "Hello,\n\nThe reviewer of your appeal needs more from you:\n\n" + note +
				"\n\nAdd it here: " + link + "\nThe review deadline pauses until you answer.\n"}
	}
}
