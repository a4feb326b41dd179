package httpapi

import (
	"net/http"

	"standing"
)

// handleRestrict serves POST /v1/accounts/{id}/restrictions.
func handleRestrict(e standing.Enforcer) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in standing.NewRestriction
		if err := decode(w, r, &in, maxBody); err != nil {
			return err
		}
		in.Actor = actorOf(r, in.Actor)
		res, err := e.Restrict(r.Context(), r.PathValue("id"), in)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusCreated, res)
	}
}

// handleLift serves POST /v1/restrictions/{id}/lift.
func handleLift(e standing.Enforcer) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in standing.LiftRequest
		if err := decodeOptional(w, r, &in, maxBody); err != nil {
			return err
		}
		in.Actor = actorOf(r, in.Actor)
		res, err := e.Lift(r.Context(), r.PathValue("id"), in)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, res)
	}
}

// handleGetRestriction serves GET /v1/restrictions/{id}.
func handleGetRestriction(rs standing.RestrictionReader) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		res, err := rs.Restriction(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, res)
	}
}

// handleListRestrictions serves GET /v1/accounts/{id}/restrictions (?all=true for ended).
func handleListRestrictions(accounts standing.AccountReader, rs standing.RestrictionReader) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		if _, err := accounts.Account(r.Context(), id); err != nil {
			return err
		}
		all := r.URL.Query().Get("all") == "true"
		list, err := rs.Restrictions(r.Context(), id, all)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, map[string]any{"restrictions": list})
	}
}

// handleReasons serves GET /v1/reasons: the reason catalog in effect.
func handleReasons(policy func() *standing.Policy) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		return writeJSON(w, http.StatusOK, map[string]any{"reasons": policy().Reasons})
	}
}
