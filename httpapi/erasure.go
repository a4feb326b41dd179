package httpapi

import (
	"net/http"
	"strings"

	"standing"
	"standing/erasure"
)

// handleRequestErasure serves POST /v1/accounts/{id}/erasure, for marketplaces that host
// their own deletion page: the same typed confirmation, reason and preconditions as
// /account/delete.
func handleRequestErasure(svc *erasure.Service) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in struct {
			ConfirmEmail  string `json:"confirm_email"`
			Phrase        string `json:"phrase"`
			Reason        string `json:"reason"`
			ForfeitWallet bool   `json:"forfeit_wallet"`
		}
		if err := decode(w, r, &in, maxBody); err != nil {
			return err
		}
		e, err := svc.Request(r.Context(), standing.DeletionRequest{AccountID: r.PathValue("id"), ConfirmEmail: in.ConfirmEmail,
			Phrase: in.Phrase, Reason: in.Reason, ForfeitWallet: in.ForfeitWallet, RequestedBy: actorOf(r, "")})
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusAccepted, e)
	}
}

// handleRestore serves DELETE /v1/accounts/{id}/erasure: restore within the grace period;
// afterwards 409, gone for good.
func handleRestore(svc *erasure.Service) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		e, err := svc.Restore(r.Context(), r.PathValue("id"), actorOf(r, ""))
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, e)
	}
}

// handleGetErasure serves GET /v1/erasures/{id}: the request and its certificate.
func handleGetErasure(svc *erasure.Service) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		e, err := svc.Erasure(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, e)
	}
}

// handleConfirmErasure serves POST /v1/erasures/{id}/confirmations {erased, note}: the
// marketplace says what it erased of its own copies.
func handleConfirmErasure(svc *erasure.Service) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in struct {
			Erased []string `json:"erased"`
			Note   string   `json:"note"`
		}
		if err := decode(w, r, &in, maxBody); err != nil {
			return err
		}
		e, err := svc.Confirm(r.Context(), r.PathValue("id"), in.Erased, in.Note)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, e)
	}
}

// handleTrack serves GET /v1/track/{number}: an order's status by tracking number, for
// anyone, without personal data.
func handleTrack(svc *erasure.Service) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		t, err := svc.Track(r.Context(), strings.TrimSpace(r.PathValue("number")))
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, t)
	}
}
