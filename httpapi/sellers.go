package httpapi

import (
	"context"
	"net/http"

	"standing"
	"standing/penalty"
)

// SellerStore records seller penalties, fines and fees and reads a seller's standing; see
// sqlstore.Store.
type SellerStore interface {
	// RecordViolation records a violation and applies what it brings. EINVALID names the
	// field (a buyer account, an unknown type, negative points), ENOTFOUND and EGONE the
	// seller, ECONFLICT (field case_id) a case reported before; replayed is set for a retry
	// with the same Idempotency-Key.
	RecordViolation(ctx context.Context, r penalty.Report, actor string, idem *standing.Idempotency) (penalty.Recorded, bool, error)
	// Violation returns a violation with what it brought; ENOTFOUND if none.
	Violation(ctx context.Context, id string) (penalty.Recorded, error)
	// WithdrawViolation withdraws a violation; ENOTFOUND, ECONFLICT if withdrawn already,
	// EINVALID (field note).
	WithdrawViolation(ctx context.Context, id string, w penalty.Withdrawal) (penalty.Violation, []standing.Restriction, error)
	// RecordFine records a fine for the marketplace to collect; EINVALID, ENOTFOUND,
	// ECONFLICT (field case_id).
	RecordFine(ctx context.Context, sellerID string, n penalty.NewFine, actor string) (penalty.Fine, error)
	// RecordFee records a platform fee owed; EINVALID, ENOTFOUND, ECONFLICT (external_id).
	RecordFee(ctx context.Context, sellerID string, n penalty.NewFee, actor string) (penalty.Fee, error)
	// PayFee records a fee paid and lifts the pause it brought; ENOTFOUND, ECONFLICT.
	PayFee(ctx context.Context, ref string, p penalty.FeePayment) (penalty.Fee, error)
	// SellerStanding returns a seller's points, performance, sanctions, fines, fees and
	// notices; ENOTFOUND, EINVALID for a buyer account.
	SellerStanding(ctx context.Context, sellerID string) (penalty.SellerStanding, error)
}

// SellerDeps are what the seller routes need.
type SellerDeps struct {
	Sellers SellerStore
	Policy  func() *standing.Policy
}

// handleReportViolation serves POST /v1/violations: a violation against a seller, with
// its type, case id, evidence reference and note. 201 with what it brought; a case
// reported before is 409 and counts nothing. An Idempotency-Key makes a retry answer the
// first 201 again.
func handleReportViolation(s SellerStore) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in penalty.Report
		idem, err := decodeIdempotent(w, r, &in)
		if err != nil {
			return err
		}
		res, replayed, err := s.RecordViolation(r.Context(), in, actorOf(r, ""), idem)
		if err != nil {
			return err
		}
		return writeLedger(w, http.StatusCreated, res, replayed)
	}
}

// handleGetViolation serves GET /v1/violations/{id}.
func handleGetViolation(s SellerStore) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		res, err := s.Violation(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, res)
	}
}

// handleWithdrawViolation serves POST /v1/violations/{id}/withdraw.
func handleWithdrawViolation(s SellerStore) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in penalty.Withdrawal
		if err := decode(w, r, &in, maxBody); err != nil {
			return err
		}
		in.Actor = actorOf(r, in.Actor)
		if len(in.Actor) > standing.MaxActorLen {
			return standing.FieldErrorf(standing.EINVALID, "actor", "actor is longer than %d characters", standing.MaxActorLen)
		}
		v, lifted, err := s.WithdrawViolation(r.Context(), r.PathValue("id"), in)
		if err != nil {
			return err
		}
		if lifted == nil {
			lifted = []standing.Restriction{}
		}
		return writeJSON(w, http.StatusOK, map[string]any{"violation": v, "lifted": lifted})
	}
}

// handleViolationTypes serves GET /v1/violation-types: the policy's violation types (with
// performance_breach) and ledgers.
func handleViolationTypes(policy func() *standing.Policy) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := policy()
		return writeJSON(w, http.StatusOK, map[string]any{
			"types": penalty.ViolationTypes(p), "ledgers": p.Seller.Ledgers, "point_lifetime": p.Seller.PointLifetime,
		})
	}
}

// handleSellerStanding serves GET /v1/sellers/{id}/standing.
func handleSellerStanding(s SellerStore) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		st, err := s.SellerStanding(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, st)
	}
}

// handleRecordFine serves POST /v1/sellers/{id}/fines.
func handleRecordFine(s SellerStore) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in penalty.NewFine
		if err := decode(w, r, &in, maxBody); err != nil {
			return err
		}
		f, err := s.RecordFine(r.Context(), r.PathValue("id"), in, actorOf(r, ""))
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusCreated, f)
	}
}

// handleRecordFee serves POST /v1/sellers/{id}/fees.
func handleRecordFee(s SellerStore) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in penalty.NewFee
		if err := decode(w, r, &in, maxBody); err != nil {
			return err
		}
		f, err := s.RecordFee(r.Context(), r.PathValue("id"), in, actorOf(r, ""))
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusCreated, f)
	}
}

// handlePayFee serves POST /v1/fees/{id}/payment: the fee (by id or external id) was paid.
func handlePayFee(s SellerStore) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in penalty.FeePayment
		if err := decodeOptional(w, r, &in, maxBody); err != nil {
			return err
		}
		in.Actor = actorOf(r, in.Actor)
		f, err := s.PayFee(r.Context(), r.PathValue("id"), in)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, f)
	}
}
