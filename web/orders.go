package web

import (
	"context"
	"net/http"

	"standing"
)

// OrderSource lists a person's orders and disputes for the orders page, and reads the
// order an appeal contests for the console.
type OrderSource interface {
	Order(ctx context.Context, ref string) (standing.Order, error)
	Orders(ctx context.Context, accountID string, limit int) ([]standing.Order, error)
	Disputes(ctx context.Context, accountID string, limit int) ([]standing.Dispute, error)
}

type orderView struct {
	ID, Amount, Placed, Status, StatusWords, Tracking, ClosedReason, AppealID string
	Closed                                                                    bool
	Disputes                                                                  []standing.Dispute
}

// ordersPage serves GET /orders: the person's orders with their status and disputes; an
// order closed by risk shows a warning, the reason in plain words, and "Want to appeal"
// (or "View appeal" once one is filed) — the path of article 001 without its dead ends.
func (s *Server) ordersPage(w http.ResponseWriter, r *http.Request) {
	acc := s.requireAccount(w, r)
	if acc == nil {
		return
	}
	views, err := s.orderViews(r.Context(), acc.ID)
	if err != nil {
		s.renderStatus(w, r, statusFor(err), "message", "Your orders", acc, standing.ErrorMessage(err), message{})
		return
	}
	s.render(w, r, "orders", "Your orders", &page{Account: acc, Data: map[string]any{"Orders": views}})
}

func (s *Server) orderViews(ctx context.Context, accountID string) ([]orderView, error) {
	orders, err := s.d.Orders.Orders(ctx, accountID, 200)
	if err != nil {
		return nil, err
	}
	disputes, err := s.d.Orders.Disputes(ctx, accountID, 500)
	if err != nil {
		return nil, err
	}
	byOrder := map[string][]standing.Dispute{}
	for _, d := range disputes {
		byOrder[d.OrderID] = append(byOrder[d.OrderID], d)
	}
	appealed := map[string]string{}
	if list, err := s.d.Appeals.AppealsOf(ctx, accountID); err == nil {
		for _, a := range list {
			if a.OrderID != "" {
				appealed[a.OrderID] = a.ID
			}
		}
	}
	var out []orderView
	for _, o := range orders {
		v := orderView{ID: o.ID, Amount: standing.Money{Currency: o.Currency, Amount: o.Amount}.String(),
			Placed: standing.FormatTime(o.PlacedAt), Status: string(o.Status), StatusWords: statusWords[string(o.Status)],
			Tracking: o.TrackingNumber, Disputes: byOrder[o.ID], Closed: o.Status == "closed_by_risk", AppealID: appealed[o.ID]}
		if v.Closed {
			v.ClosedReason = o.ClosedReason
			if v.ClosedReason == "" {
				v.ClosedReason = "Our risk checks closed it to protect your payment."
			}
		}
		out = append(out, v)
	}
	return out, nil
}
