package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"

	"standing"
	"standing/rules"
)

// decodeIdempotent decodes the body into v, as decode does, and returns the Idempotency of
// the request when it carries an Idempotency-Key header: the key, the API key that sent it,
// the method and path, and a fingerprint of the decoded body (so the same JSON written with other
// spacing or key order is the same request).
func decodeIdempotent(w http.ResponseWriter, r *http.Request, v any) (*standing.Idempotency, error) {
	if err := decode(w, r, v, maxBody); err != nil {
		return nil, err
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		return nil, nil
	}
	if len(key) > standing.MaxIdempotencyKeyLen || strings.IndexFunc(key, func(c rune) bool { return c < ' ' || c > '~' }) >= 0 {
		return nil, standing.FieldErrorf(standing.EINVALID, "Idempotency-Key", "an Idempotency-Key is 1 to %d printable ASCII characters (a UUID, say)", standing.MaxIdempotencyKeyLen)
	}
	canonical, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	h.Write([]byte(r.URL.Path))
	h.Write([]byte{0})
	h.Write(canonical)
	caller := "api"
	if k := callerKey(r); k != nil {
		caller = k.ID
	}
	return &standing.Idempotency{Key: key, Caller: caller, Route: r.Method + " " + r.URL.Path, Fingerprint: hex.EncodeToString(h.Sum(nil))}, nil
}

// writeLedger writes the answer of a ledger write, marking a replayed one.
func writeLedger(w http.ResponseWriter, status int, v any, replayed bool) error {
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	return writeJSON(w, status, v)
}

// handleCreateOrder serves POST /v1/orders.
func handleCreateOrder(l standing.LedgerWriter, h *rules.IdentityHasher, clock standing.Clock) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in standing.NewOrder
		idem, err := decodeIdempotent(w, r, &in)
		if err != nil {
			return err
		}
		if err := in.Validate(clock.Now()); err != nil {
			return err
		}
		if in.ShippingAddress != nil {
			a, err := h.Address("shipping_address", *in.ShippingAddress)
			if err != nil {
				return err
			}
			in.Identity = append(in.Identity, a)
		}
		o, replayed, err := l.CreateOrder(r.Context(), in, idem)
		if err != nil {
			return err
		}
		return writeLedger(w, http.StatusCreated, o, replayed)
	}
}

// handleGetOrder serves GET /v1/orders/{id} (a Standing id or the marketplace's external id).
func handleGetOrder(l standing.LedgerReader) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		o, err := l.Order(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, o)
	}
}

// handleUpdateOrder serves PATCH /v1/orders/{id}.
func handleUpdateOrder(l standing.LedgerWriter, clock standing.Clock) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in standing.OrderPatch
		idem, err := decodeIdempotent(w, r, &in)
		if err != nil {
			return err
		}
		if err := in.Validate(clock.Now()); err != nil {
			return err
		}
		o, replayed, err := l.UpdateOrder(r.Context(), r.PathValue("id"), in, idem)
		if err != nil {
			return err
		}
		return writeLedger(w, http.StatusOK, o, replayed)
	}
}

// handleCreateDispute serves POST /v1/disputes.
func handleCreateDispute(l standing.LedgerWriter, clock standing.Clock) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in standing.NewDispute
		idem, err := decodeIdempotent(w, r, &in)
		if err != nil {
			return err
		}
		if err := in.Validate(clock.Now()); err != nil {
			return err
		}
		d, replayed, err := l.CreateDispute(r.Context(), in, idem)
		if err != nil {
			return err
		}
		return writeLedger(w, http.StatusCreated, d, replayed)
	}
}

// handleGetDispute serves GET /v1/disputes/{id}.
func handleGetDispute(l standing.LedgerReader) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		d, err := l.Dispute(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, d)
	}
}

// handleUpdateDispute serves PATCH /v1/disputes/{id}: resolving a dispute.
func handleUpdateDispute(l standing.LedgerWriter, clock standing.Clock) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in standing.DisputePatch
		idem, err := decodeIdempotent(w, r, &in)
		if err != nil {
			return err
		}
		if err := in.Validate(clock.Now()); err != nil {
			return err
		}
		d, replayed, err := l.UpdateDispute(r.Context(), r.PathValue("id"), in, idem)
		if err != nil {
			return err
		}
		return writeLedger(w, http.StatusOK, d, replayed)
	}
}

// handleSetWallet serves POST /v1/accounts/{id}/wallet: the balance in one currency.
func handleSetWallet(l standing.LedgerWriter) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in standing.WalletUpdate
		idem, err := decodeIdempotent(w, r, &in)
		if err != nil {
			return err
		}
		if err := in.Validate(); err != nil {
			return err
		}
		wl, replayed, err := l.SetWallet(r.Context(), r.PathValue("id"), in, idem)
		if err != nil {
			return err
		}
		return writeLedger(w, http.StatusOK, wl, replayed)
	}
}

// handleGetWallet serves GET /v1/accounts/{id}/wallet: every balance of the account.
func handleGetWallet(accounts standing.AccountReader, l standing.LedgerReader) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		if _, err := accounts.Account(r.Context(), id); err != nil {
			return err
		}
		ws, err := l.Wallets(r.Context(), id)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, map[string]any{"account_id": id, "balances": ws})
	}
}

// handleAccountOrders serves GET /v1/accounts/{id}/orders: the account's orders and
// disputes, as buyer or seller, newest first.
func handleAccountOrders(accounts standing.AccountReader, l standing.LedgerReader) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		if _, err := accounts.Account(r.Context(), id); err != nil {
			return err
		}
		limit, err := queryInt(r, "limit", 100, 1000)
		if err != nil {
			return err
		}
		orders, err := l.Orders(r.Context(), id, limit)
		if err != nil {
			return err
		}
		disputes, err := l.Disputes(r.Context(), id, limit)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, map[string]any{"orders": orders, "disputes": disputes})
	}
}
