package httpapi

import (
	"net/http"

	"standing"
)

// handleLinks serves GET /v1/accounts/{id}/links: the accounts that share strong identity
// details (card, phone, shipping address, device) with this one, each with the details
// they share (masked), since when, and whether the other account is restricted.
func handleLinks(l standing.LinkReader) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		links, err := l.Links(r.Context(), id)
		if err != nil {
			return err
		}
		denied, err := l.DenyListHits(r.Context(), id)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, map[string]any{"account_id": id, "links": links, "deny_list_hits": denied})
	}
}
