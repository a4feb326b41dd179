package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"standing"
	"standing/penalty"
	"standing/rules"
	"standing/sqlstore"
	"standing/standingtest"
)

// On PostgreSQL two write transactions run at once; these tests put one of them in a
// known place. Another transaction (the rival) makes its change and holds its locks; the
// operation under test starts, reads what it reads, and waits for a lock the rival holds;
// then the rival commits. The operation must decide on what the rival committed, not on
// what it read before it waited. (SQLite runs one write transaction at a time.)

// racePostgres is a store on a fresh PostgreSQL schema with a second connection pool to it.
type racePostgres struct {
	*sqlstore.Store
	db    *sql.DB
	clock *standing.OffsetClock
}

func openRacePostgres(t *testing.T, policy *standing.Policy) racePostgres {
	t.Helper()
	dsn := standingtest.PostgresURL(t)
	clock := standing.NewTestClock(standingtest.Start)
	opts := sqlstore.Options{Clock: clock}
	if policy != nil {
		opts.Policy = func() *standing.Policy { return policy }
	}
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, dsn, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return racePostgres{Store: s, db: db, clock: clock}
}

// rival is a change another transaction made: statements with their arguments.
type rival [][]any

// lockAccount is the rival's first statement when it stands for a store method, which
// locks the account before it changes the account's rows.
func lockAccount(id string) []any {
	return []any{"SELECT id FROM accounts WHERE id = $1 FOR UPDATE", id}
}

// afterRival runs the rival's statements in a transaction, then op; once op waits for
// the rival's locks the rival commits, and afterRival returns op's error.
func (p racePostgres) afterRival(t *testing.T, r rival, op func() error) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := p.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var pid int
	if err := conn.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, st := range r {
		if _, err := tx.ExecContext(ctx, st[0].(string), st[1:]...); err != nil {
			t.Fatalf("rival %s: %v", st[0], err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- op() }()
	for waiting := false; !waiting; {
		select {
		case err := <-done:
			t.Fatalf("the operation did not wait for the rival transaction (it returned %v)", err)
		default:
		}
		err := p.db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid)))", pid).Scan(&waiting)
		if err != nil {
			t.Fatalf("waiting for the operation to block: %v", err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		t.Fatal("the operation did not finish after the rival committed")
		return nil
	}
}

// countActions counts the account's audit entries of an action.
func countActions(t *testing.T, s *sqlstore.Store, accountID, action string) int {
	t.Helper()
	entries, err := s.Timeline(context.Background(), accountID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.Action == action {
			n++
		}
	}
	return n
}

// TestRaceLiftAfterLift: a restriction lifted while Lift waited is a conflict, with no
// second restriction.lifted entry or webhook.
func TestRaceLiftAfterLift(t *testing.T) {
	p := openRacePostgres(t, nil)
	ctx := context.Background()
	a := standingtest.MustCreateAccount(t, p, standing.RoleBuyer, "lift@example.com")
	r := standingtest.MustRestrict(t, p, a.ID, standing.NewRestriction{ReasonCode: standing.ReasonRiskReview})
	err := p.afterRival(t, rival{lockAccount(a.ID),
		{"UPDATE restrictions SET state = 'lifted', ended_at = $1, ended_by = 'reviewer:kim' WHERE id = $2", p.clock.Now().UnixMicro(), r.ID}},
		func() error {
			_, err := p.Lift(ctx, r.ID, standing.LiftRequest{Actor: "reviewer:lee"})
			return err
		})
	standingtest.WantCode(t, err, standing.ECONFLICT, "")
	if n := countActions(t, p.Store, a.ID, standing.AuditRestrictionLifted); n != 0 {
		t.Errorf("%d restriction.lifted entries from the second lift", n)
	}
}

// TestRaceExpireAfterLift: the expiry sweep skips a restriction lifted after it read the
// due ones.
func TestRaceExpireAfterLift(t *testing.T) {
	p := openRacePostgres(t, nil)
	ctx := context.Background()
	a := standingtest.MustCreateAccount(t, p, standing.RoleBuyer, "expire@example.com")
	r := standingtest.MustRestrict(t, p, a.ID, standing.NewRestriction{ReasonCode: standing.ReasonRiskReview, Duration: "1d"})
	p.clock.Advance(48 * time.Hour)
	var n int
	err := p.afterRival(t, rival{lockAccount(a.ID),
		{"UPDATE restrictions SET state = 'lifted', ended_at = $1, ended_by = 'reviewer:kim' WHERE id = $2", p.clock.Now().UnixMicro(), r.ID}},
		func() (err error) {
			n, err = p.ExpireRestrictions(ctx, p.clock.Now())
			return err
		})
	if err != nil || n != 0 {
		t.Fatalf("ExpireRestrictions = %d, %v; want 0 (it was lifted)", n, err)
	}
	if n := countActions(t, p.Store, a.ID, standing.AuditRestrictionExpired); n != 0 {
		t.Errorf("%d restriction.expired entries for a lifted restriction", n)
	}
	if got, _ := p.Restriction(ctx, r.ID); got.State != standing.RestrictionLifted {
		t.Errorf("state = %s, want lifted", got.State)
	}
}

// TestRaceWithdrawTwice: a violation withdrawn while the second withdrawal waited is a
// conflict.
func TestRaceWithdrawTwice(t *testing.T) {
	p := openRacePostgres(t, nil)
	ctx := context.Background()
	a := standingtest.MustCreateAccount(t, p, standing.RoleSeller, "withdraw@example.com")
	rec, _, err := p.RecordViolation(ctx, penalty.Report{SellerID: a.ID, Type: "late_shipment", CaseID: "W-1"}, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	err = p.afterRival(t, rival{lockAccount(a.ID),
		{"UPDATE seller_violations SET withdrawn_at = $1, withdrawn_by = 'kim', withdraw_note = 'wrong store' WHERE id = $2", p.clock.Now().UnixMicro(), rec.Violation.ID}},
		func() error {
			_, _, err := p.WithdrawViolation(ctx, rec.Violation.ID, penalty.Withdrawal{Note: "wrong store", Actor: "lee"})
			return err
		})
	standingtest.WantCode(t, err, standing.ECONFLICT, "")
	if n := countActions(t, p.Store, a.ID, standing.AuditViolationWithdrawn); n != 0 {
		t.Errorf("%d violation.withdrawn entries from the second withdrawal", n)
	}
}

// TestRacePayFeeTwice: a fee reported paid while the second report waited is a conflict.
func TestRacePayFeeTwice(t *testing.T) {
	p := openRacePostgres(t, nil)
	ctx := context.Background()
	a := standingtest.MustCreateAccount(t, p, standing.RoleSeller, "pay@example.com")
	f, err := p.RecordFee(ctx, a.ID, penalty.NewFee{Description: "Service fee", Amount: 100, Currency: "EUR"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	err = p.afterRival(t, rival{lockAccount(a.ID),
		{"UPDATE seller_fees SET paid_at = $1, payment_ref = 'PAY-1' WHERE id = $2", p.clock.Now().UnixMicro(), f.ID}},
		func() error {
			_, err := p.PayFee(ctx, f.ID, penalty.FeePayment{Reference: "PAY-2"})
			return err
		})
	standingtest.WantCode(t, err, standing.ECONFLICT, "")
	if n := countActions(t, p.Store, a.ID, standing.AuditSellerFeePaid); n != 0 {
		t.Errorf("%d fee-paid entries from the second report", n)
	}
}

// TestRaceEnforcePaidFee: a fee paid while its enforcement job waited does not restrict.
func TestRaceEnforcePaidFee(t *testing.T) {
	p := openRacePostgres(t, nil)
	ctx := context.Background()
	a := standingtest.MustCreateAccount(t, p, standing.RoleSeller, "enforce@example.com")
	f, err := p.RecordFee(ctx, a.ID, penalty.NewFee{Description: "Service fee", Amount: 100, Currency: "EUR"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	p.clock.Advance(f.GraceEndsAt.Sub(p.clock.Now()) + time.Hour)
	err = p.afterRival(t, rival{lockAccount(a.ID),
		{"UPDATE seller_fees SET paid_at = $1, payment_ref = 'PAY-1' WHERE id = $2", p.clock.Now().UnixMicro(), f.ID}},
		func() error { return p.EnforceFee(ctx, f.ID) })
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := p.Standing(ctx, a.ID); len(st.Restrictions) != 0 {
		t.Fatalf("a paid fee restricted the store: %+v", st.Restrictions)
	}
}

// TestRaceClosureCancelled: a closure notice cancelled while its job waited is not
// carried out.
func TestRaceClosureCancelled(t *testing.T) {
	policy := standing.DefaultPolicy()
	policy.EU.Enabled = true
	p := openRacePostgres(t, policy)
	ctx := context.Background()
	a := standingtest.MustCreateAccount(t, p, standing.RoleSeller, "closing@example.com")
	var last penalty.Recorded
	for i := range 8 {
		var err error
		last, _, err = p.RecordViolation(ctx, penalty.Report{SellerID: a.ID, Type: "prohibited_goods", CaseID: fmt.Sprint("PG-", i)}, "test", nil)
		if err != nil {
			t.Fatal(err)
		}
		p.clock.Advance(24 * time.Hour)
	}
	var notice penalty.NoticeLine
	for _, l := range last.NoticeLines {
		if l.Kind == penalty.NoticeClosure {
			notice = l
		}
	}
	if notice.ID == "" {
		t.Fatalf("no closure notice: %+v", last.NoticeLines)
	}
	p.clock.Advance(notice.EffectiveAt.Sub(p.clock.Now()))
	err := p.afterRival(t, rival{lockAccount(a.ID),
		{"UPDATE seller_notices SET state = $1 WHERE id = $2", penalty.NoticeCancelled, notice.ID}},
		func() error { return p.ApplyClosure(ctx, notice.ID) })
	if err != nil {
		t.Fatal(err)
	}
	st, err := p.Standing(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := st.Check(standing.CapListProducts, p.clock.Now()); !d.Allowed {
		t.Fatalf("a cancelled closure was carried out: %+v", d)
	}
}

// TestRaceRuleEditsFromOneVersion: of two edits from the same base version, the second
// to commit is a conflict, not an internal error.
func TestRaceRuleEditsFromOneVersion(t *testing.T) {
	p := openRacePostgres(t, nil)
	ctx := context.Background()
	risk := sqlstore.NewRisk(p.Store, sqlstore.RiskOptions{})
	if _, err := risk.SeedDefaultRules(ctx); err != nil {
		t.Fatal(err)
	}
	all, err := risk.Rules(ctx)
	if err != nil || len(all) == 0 {
		t.Fatalf("Rules = %d, %v", len(all), err)
	}
	rule := all[0].Rule
	base := rule.Version
	edit := rule
	edit.Description += " (edited)"
	err = p.afterRival(t, rival{
		{"UPDATE rules SET version = version + 1, updated_by = 'kim' WHERE id = $1", rule.ID},
		{"INSERT INTO rule_versions (rule_id, version, definition, actor, created_at) SELECT id, version, definition, 'kim', 0 FROM rules WHERE id = $1", rule.ID}},
		func() error {
			_, _, err := risk.SaveRule(ctx, edit, "lee", rules.SaveUpdate, base)
			return err
		})
	standingtest.WantCode(t, err, standing.ECONFLICT, "version")
}

// issueToken creates an account with a token of kind (verify or reset) whose link secret
// hashes to secretHash and whose code hashes to codeHash.
func issueToken(t *testing.T, p racePostgres, email, kind, secretHash, codeHash string) (standing.Account, standing.Token) {
	t.Helper()
	ctx := context.Background()
	res, err := p.CreateAccounts(ctx, []standing.NewAccount{{Role: standing.RoleBuyer, Email: email, Lifecycle: standing.LifecycleUnverified}}, "test")
	if err != nil || res[0].Err != nil {
		t.Fatal(err, res)
	}
	a := *res[0].Account
	now := p.clock.Now()
	tok := standing.Token{ID: "tok_" + kind, AccountID: a.ID, Kind: kind, SecretHash: secretHash, CodeHash: codeHash, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := p.IssueToken(ctx, tok, standing.Mail{AccountID: a.ID, To: email, Kind: kind, Subject: "Your link", Text: "…"}, "test", ""); err != nil {
		t.Fatal(err)
	}
	return a, tok
}

// TestRaceConfirmationCodes: codes tried in parallel count against one limit. A code
// tried while the last allowed wrong code was being counted is refused, right or wrong.
func TestRaceConfirmationCodes(t *testing.T) {
	const max = 3
	for _, code := range []string{"wrong", "right"} {
		t.Run(code, func(t *testing.T) {
			p := openRacePostgres(t, nil)
			ctx := context.Background()
			a, tok := issueToken(t, p, code+"@example.com", "verify", "secret-hash", "right")
			err := p.afterRival(t, rival{{"UPDATE tokens SET attempts = $1 WHERE id = $2", max, tok.ID}},
				func() error {
					_, err := p.ConfirmEmail(ctx, "", a.ID, code, max)
					return err
				})
			standingtest.WantCode(t, err, standing.ERATELIMITED, "")
			got, err := p.LatestToken(ctx, a.ID, "verify")
			if err != nil {
				t.Fatal(err)
			}
			if got.Attempts != max || got.UsedAt != nil {
				t.Errorf("token after the limit: %d attempts, used at %v; want %d, unused", got.Attempts, got.UsedAt, max)
			}
			if acc, _ := p.Account(ctx, a.ID); acc.EmailVerifiedAt != nil {
				t.Error("a code past the limit confirmed the email")
			}
		})
	}
}

// TestRaceResetLinkTwice: of two uses of one reset link, the second finds it used.
func TestRaceResetLinkTwice(t *testing.T) {
	p := openRacePostgres(t, nil)
	ctx := context.Background()
	a, tok := issueToken(t, p, "reset@example.com", "reset", "reset-hash", "")
	err := p.afterRival(t, rival{lockAccount(a.ID),
		{"UPDATE accounts SET password_hash = 'first' WHERE id = $1", a.ID},
		{"UPDATE tokens SET used_at = $1 WHERE id = $2", p.clock.Now().UnixMicro(), tok.ID}},
		func() error {
			_, err := p.ResetPassword(ctx, "reset-hash", "second", func(a standing.Account) standing.Mail {
				return standing.Mail{AccountID: a.ID, To: a.Email, Kind: "password_changed", Subject: "Password changed", Text: "…"}
			})
			return err
		})
	standingtest.WantCode(t, err, standing.ECONFLICT, "")
	if _, hash, err := p.Credentials(ctx, a.Email); err != nil || hash != "first" {
		t.Errorf("password hash = %q, %v; the second use of the link changed it", hash, err)
	}
}
