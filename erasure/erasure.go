// Package erasure deletes accounts the way people and the law expect: a request checks the
// preconditions (no order under way, no open dispute, no money left unless the person
// gives it up, no money owed) and the typed confirmation, ends access at once and gives
// support 24 hours to restore by mistake; then a durable, resumable job erases every piece
// of personal data in every store, keeps only what the law requires (anonymised, until its
// retention ends), tells the marketplace to erase its copies, and leaves a certificate of
// what was erased where and what was kept, why and until when.
package erasure

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"standing"
	"standing/blob"
	"standing/identity"
	"standing/sqlstore"
)

// Store is what erasure needs of the storage.
type Store interface {
	standing.AccountReader
	standing.StandingReader
	Balances(ctx context.Context, accountID string) ([]standing.Money, error)
	OpenObligations(ctx context.Context, accountID string, blocking []string) (int, int, error)
	RequestDeletion(ctx context.Context, req standing.DeletionRequest, forfeited []standing.Money, mail func(standing.Account, standing.Erasure) standing.Mail) (standing.Erasure, error)
	RestoreAccount(ctx context.Context, accountID, by string, mail func(standing.Account) standing.Mail) (standing.Erasure, error)
	Erasure(ctx context.Context, id string) (standing.Erasure, error)
	LatestErasure(ctx context.Context, accountID string) (standing.Erasure, error)
	ErasureSteps() []sqlstore.ErasureStep
	DueErasures(ctx context.Context, now time.Time, limit int) ([]standing.Erasure, error)
	EraseBatch(ctx context.Context, work []sqlstore.ErasureWork, steps []sqlstore.ErasureStep, afterStep func(),
		cert func(e standing.Erasure, counts []map[string]int, denyReason string) (standing.Certificate, time.Time, time.Time)) (int, error)
	ErasureStepDone(ctx context.Context, erasureID, step string) (map[string]int, bool, error)
	RecordErasureSteps(ctx context.Context, step string, removed map[string]map[string]int) error
	ConfirmMarketplaceErasure(ctx context.Context, id string, erased []string, note string) (standing.Erasure, error)
	ErasureDeadlines(ctx context.Context, now time.Time, limit int) ([]string, []string, error)
	CloseUnconfirmedErasure(ctx context.Context, id string) error
	EndRetention(ctx context.Context, id string) (map[string]int, error)
	Track(ctx context.Context, number string) (sqlstore.Tracking, error)
}

// Service runs deletion requests and erasures.
type Service struct {
	store   Store
	blobs   blob.Store
	policy  func() *standing.Policy
	baseURL string
	// CrashAfterSteps, for tests of crash recovery, kills the process with SIGKILL after
	// that many erasure steps (0: never). It is set only from STANDING_TEST_CRASH_ERASURE.
	CrashAfterSteps int
}

// New returns the erasure service.
// Time comes from the job runner's passes (RunDue, Deadlines) and from the store's clock.
func New(store Store, blobs blob.Store, policy func() *standing.Policy, baseURL string) *Service {
	return &Service{store: store, blobs: blobs, policy: policy, baseURL: strings.TrimSuffix(baseURL, "/")}
}

// Preconditions checks what must hold before an account can be deleted, each with its own
// message and where to fix it, and returns the positive wallet balances: the money the
// person may give up by ticking the forfeit box. A negative balance is money the person
// owes; it is a precondition of its own ("debt") that no tick can waive, because a debt
// is not the person's to give up — they settle it first.
func (s *Service) Preconditions(ctx context.Context, accountID string) ([]standing.Precondition, []standing.Money, error) {
	p := s.policy()
	orders, disputes, err := s.store.OpenObligations(ctx, accountID, p.Deletion.BlockingOrderState)
	if err != nil {
		return nil, nil, err
	}
	balances, err := s.store.Balances(ctx, accountID)
	if err != nil {
		return nil, nil, err
	}
	var credit, debt []standing.Money
	for _, m := range balances {
		switch {
		case m.Amount > 0:
			credit = append(credit, m)
		case m.Amount < 0:
			debt = append(debt, standing.Money{Currency: m.Currency, Amount: -m.Amount})
		}
	}
	pre := []standing.Precondition{
		{Key: "orders", OK: orders == 0, FixURL: "/orders", Message: "No order is waiting for payment, paid or on its way."},
		{Key: "disputes", OK: disputes == 0, FixURL: "/orders", Message: "No dispute is open."},
		{Key: "wallet", OK: len(credit) == 0, FixURL: p.Deletion.WalletURL, Message: "Your wallet is empty."},
		{Key: "debt", OK: len(debt) == 0, FixURL: p.Deletion.WalletURL, Message: "You owe the marketplace nothing."},
	}
	if pre[2].FixURL == "" && p.Deletion.AllowForfeit {
		pre[2].FixURL = "#forfeit" // the tick on the deletion page
	}
	if orders > 0 {
		pre[0].Message = fmt.Sprintf("%d of your orders are waiting for payment, paid or on their way. Wait until they are completed or cancel them first.", orders)
	}
	if disputes > 0 {
		pre[1].Message = fmt.Sprintf("%d disputes are still open. Close or resolve them first.", disputes)
	}
	if len(credit) > 0 {
		pre[2].Message = "Your wallet still holds " + standing.MoneyWords(credit) + ". Withdraw it first, or tick that you give it up."
	}
	if len(debt) > 0 {
		pre[3].Message = "Your wallet balance is below zero: you owe the marketplace " + standing.MoneyWords(debt) + ". Settle it first; a debt cannot be given up by deleting the account."
	}
	return pre, credit, nil
}

// Request checks and records a deletion request. The person (or support for them) must
// type the account's email again and the policy's phrase, and pick a reason; every
// precondition must hold, unless an admin overrides with a note.
func (s *Service) Request(ctx context.Context, req standing.DeletionRequest) (standing.Erasure, error) {
	p := s.policy()
	a, err := s.store.Account(ctx, req.AccountID)
	if err != nil {
		return standing.Erasure{}, err
	}
	if a.Lifecycle == standing.LifecycleErased {
		return standing.Erasure{}, standing.Errorf(standing.EGONE, "This account was already erased.")
	}
	if req.Override == "" {
		typed, err := identity.Email(req.ConfirmEmail)
		if err != nil || typed != a.Email {
			return standing.Erasure{}, standing.FieldErrorf(standing.EINVALID, "confirm_email", "Type the email address of this account to confirm.")
		}
		if !samePhrase(req.Phrase, p.Deletion.Phrase) {
			return standing.Erasure{}, standing.FieldErrorf(standing.EINVALID, "phrase", "Type the phrase exactly: %s", p.Deletion.Phrase)
		}
	} else if len(req.Override) > standing.MaxNoteLen {
		return standing.Erasure{}, standing.FieldErrorf(standing.EINVALID, "override", "Keep the note under %d characters.", standing.MaxNoteLen)
	}
	if !standing.HasString(p.Deletion.Reasons, req.Reason) {
		return standing.Erasure{}, standing.FieldErrorf(standing.EINVALID, "reason", "Choose a reason from the list: %s.", strings.Join(p.Deletion.Reasons, "; "))
	}
	pre, balances, err := s.Preconditions(ctx, a.ID)
	if err != nil {
		return standing.Erasure{}, err
	}
	var forfeited []standing.Money
	if req.Override == "" {
		for _, c := range pre {
			if c.OK {
				continue
			}
			if c.Key == "wallet" {
				if req.ForfeitWallet && p.Deletion.AllowForfeit {
					forfeited = balances
					continue
				}
				return standing.Erasure{}, standing.FieldErrorf(standing.ECONFLICT, "forfeit_wallet", "%s", c.Message)
			}
			return standing.Erasure{}, standing.FieldErrorf(standing.ECONFLICT, c.Key, "%s", c.Message)
		}
	} else {
		forfeited = balances
	}
	return s.store.RequestDeletion(ctx, req, forfeited, func(a standing.Account, e standing.Erasure) standing.Mail {
		return standing.Mail{AccountID: a.ID, To: a.Email, Kind: "deletion_requested", Subject: "Your account will be deleted",
			Text: "Hello,\n\nWe received the request to delete your account on " + standing.FormatTime(e.RequestedAt) +
				". You are signed out everywhere, and your personal data will be erased on " + standing.FormatTime(e.ScheduledFor) +
				".\n\nChanged your mind, or was it not you? Contact support before then and we can restore the account. After that the erasure cannot be undone.\n\n" +
				"What we keep after the erasure, and why: records of your orders without your name, as tax law requires invoices to be kept; the decisions about your account without personal data, as EU law requires. Your email address can be used for a new account afterwards.\n"}
	})
}

func samePhrase(typed, want string) bool {
	return strings.EqualFold(strings.Join(strings.Fields(typed), " "), want)
}

// Restore cancels a deletion within its grace period.
func (s *Service) Restore(ctx context.Context, accountID, by string) (standing.Erasure, error) {
	return s.store.RestoreAccount(ctx, accountID, by, func(a standing.Account) standing.Mail {
		return standing.Mail{AccountID: a.ID, To: a.Email, Kind: "deletion_cancelled", Subject: "Your account was restored",
			Text: "Hello,\n\nThe deletion of your account was cancelled and it is restored. Sign in again: " + s.baseURL + "/login\n"}
	})
}

// Track returns an order's status by tracking number, for anyone.
func (s *Service) Track(ctx context.Context, number string) (sqlstore.Tracking, error) {
	if number == "" || len(number) > 100 {
		return sqlstore.Tracking{}, standing.FieldErrorf(standing.EINVALID, "number", "a tracking number has 1 to 100 characters")
	}
	return s.store.Track(ctx, number)
}

// Erasure returns an erasure with its certificate.
func (s *Service) Erasure(ctx context.Context, id string) (standing.Erasure, error) {
	return s.store.Erasure(ctx, id)
}

// Latest returns an account's newest deletion request.
func (s *Service) Latest(ctx context.Context, accountID string) (standing.Erasure, error) {
	return s.store.LatestErasure(ctx, accountID)
}

// Confirm records what the marketplace erased of its own copies.
func (s *Service) Confirm(ctx context.Context, id string, erased []string, note string) (standing.Erasure, error) {
	if len(erased) == 0 {
		return standing.Erasure{}, standing.FieldErrorf(standing.EINVALID, "erased", "say what was erased, e.g. [\"reviews\", \"messages\", \"store feedback\"]")
	}
	if len(erased) > 50 || len(note) > standing.MaxNoteLen {
		return standing.Erasure{}, standing.FieldErrorf(standing.EINVALID, "erased", "at most 50 items and a note under %d characters", standing.MaxNoteLen)
	}
	for i, e := range erased {
		if strings.TrimSpace(e) == "" || len(e) > 200 {
			return standing.Erasure{}, standing.FieldErrorf(standing.EINVALID, fmt.Sprintf("erased[%d]", i), "each item is 1 to 200 characters")
		}
	}
	return s.store.ConfirmMarketplaceErasure(ctx, id, erased, note)
}

// RunDue erases every account whose grace period ended, a batch at a time. The job runner
// calls it on each pass; the erasure rows are the durable record, so an erasure due while
// the process was down, or one a crash interrupted, runs at the next pass.
func (s *Service) RunDue(ctx context.Context, now time.Time) error {
	for {
		due, err := s.store.DueErasures(ctx, now, 200)
		if err != nil || len(due) == 0 {
			return err
		}
		n, err := s.erase(ctx, due, now)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
	}
}

// erase runs the erasures due at now: for each, the evidence files first (the count is recorded
// before the deletion, and a rerun deletes what is left), then every table of all of them
// in one transaction that records each step. A crash (or a kill -9) anywhere leaves each
// erasure's tables either erased and recorded or untouched, so it simply runs again after a
// restart, and the certificate's counts are those of the run that did the work.
func (s *Service) erase(ctx context.Context, erasures []standing.Erasure, now time.Time) (int, error) {
	var work []sqlstore.ErasureWork
	files := map[string]map[string]int{}
	done := 0
	crash := func() {
		done++
		if s.CrashAfterSteps > 0 && done == s.CrashAfterSteps {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	}
	// The evidence files: counted and recorded for the whole batch in one transaction,
	// then deleted. A rerun after a crash finds the record and deletes whatever is left, so
	// the files always go and the certificate always has the first count.
	var due []standing.Erasure
	keys := map[string][]string{}
	toRecord := map[string]map[string]int{}
	for _, e := range erasures {
		id := e.ID
		if e.State != standing.ErasureRunning && (e.State != standing.ErasureScheduled || now.Before(e.ScheduledFor)) {
			continue
		}
		due = append(due, e)
		if err := s.blobs.List(ctx, "evidence/"+e.AccountID+"/", func(i blob.Info) error {
			keys[id] = append(keys[id], i.Key)
			return nil
		}); err != nil {
			return 0, err
		}
		// Only an erasure a crash interrupted (state running) can have a record already.
		recorded, ok := map[string]int(nil), false
		if e.State == standing.ErasureRunning {
			var err error
			if recorded, ok, err = s.store.ErasureStepDone(ctx, id, filesStep); err != nil {
				return 0, err
			}
		}
		if ok {
			files[id] = recorded
		} else {
			files[id] = map[string]int{"files": len(keys[id])}
			toRecord[id] = files[id]
		}
	}
	if err := s.store.RecordErasureSteps(ctx, filesStep, toRecord); err != nil {
		return 0, err
	}
	for _, e := range due {
		for _, k := range keys[e.ID] {
			if err := s.blobs.Delete(ctx, k); err != nil {
				return 0, err
			}
		}
		crash()
		work = append(work, sqlstore.ErasureWork{ID: e.ID})
	}
	if len(work) == 0 {
		return 0, nil
	}
	steps := s.store.ErasureSteps()
	p := s.policy()
	return s.store.EraseBatch(ctx, work, steps, crash, func(e standing.Erasure, counts []map[string]int, deny string) (standing.Certificate, time.Time, time.Time) {
		retentionEnd := now.Add(p.Retention.Invoices.D())
		cert := standing.Certificate{Forfeited: e.Forfeited,
			Stores: []standing.StoreReport{{Store: "evidence files", Removed: files[e.ID]}}}
		for i, step := range steps {
			cert.Stores = append(cert.Stores, standing.StoreReport{Store: step.Store, Removed: counts[i]})
		}
		cert.Kept = s.kept(retentionEnd, deny)
		for i, step := range steps {
			if step.Name == "sellers" && counts[i]["seller_violations_anonymised"]+counts[i]["seller_fines_anonymised"]+counts[i]["seller_fees_anonymised"] > 0 {
				cert.Kept = append(cert.Kept, standing.KeptRecord{What: "The store's violations, sanctions, fines and fees, without notes, evidence, case references or descriptions",
					Why: "Statements of reasons for the store's sanctions (EU DSA Art. 17 and 24(5)); fines and fees are accounting records (GDPR Art. 17(3)(b)); establishing or defending legal claims (GDPR Art. 17(3)(e))."})
			}
		}
		return cert, now.Add(p.Deletion.ConfirmationWait.D()), retentionEnd
	})
}

// kept lists what an erasure keeps, why and until when.
func (s *Service) kept(retentionEnd time.Time, deny string) []standing.KeptRecord {
	kept := []standing.KeptRecord{
		{What: "Orders and disputes, without names (the account id stays as a tombstone)", Until: &retentionEnd,
			Why: "Tax and commercial law require invoices to be kept (GDPR Art. 17(3)(b)); deleted when the retention ends."},
		{What: "Restrictions and appeal decisions, without notes, statements or messages",
			Why: "Statements of reasons and their transparency reporting (EU DSA Art. 17 and 24(5)); establishing or defending legal claims (GDPR Art. 17(3)(e))."},
		{What: "Audit entries, with their personal data removed",
			Why: "The integrity of the record of decisions: the hash chain still verifies without the erased data."},
		{What: "Tracking numbers and order statuses", Until: &retentionEnd,
			Why: "Parcels in transit can still be tracked without an account; they identify no one."},
	}
	if deny != "" {
		kept = append(kept, standing.KeptRecord{What: "Keyed hashes (HMAC) of the account's identity details, on the deny list",
			Why: "The account was closed for " + deny + ": a new account with the same details is linked and flagged (GDPR Art. 6(1)(f), legitimate interest in preventing fraud)."})
	}
	return kept
}

// filesStep is the erasure step of the evidence files.
const filesStep = "evidence_files"

// Deadlines closes the erasures whose marketplace did not confirm in time (the
// certificate says so) and deletes the anonymised records whose retention ended.
func (s *Service) Deadlines(ctx context.Context, now time.Time) error {
	unconfirmed, over, err := s.store.ErasureDeadlines(ctx, now, 500)
	if err != nil {
		return err
	}
	for _, id := range unconfirmed {
		if err := s.store.CloseUnconfirmedErasure(ctx, id); err != nil {
			return err
		}
	}
	for _, id := range over {
		if _, err := s.store.EndRetention(ctx, id); err != nil {
			return err
		}
	}
	return nil
}
