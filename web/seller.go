package web

import (
	"context"
	"net/http"
)

// SellerSource gives the seller dashboard its data.
type SellerSource interface {
	SellerDashboard(ctx context.Context, sellerID string) (any, error)
}

// sellerPage serves GET /seller: the seller dashboard.
func (s *Server) sellerPage(w http.ResponseWriter, r *http.Request) {
	http.NotFound(w, r)
}
