package httpapi

import (
	"fmt"
	"net/http"
	"time"

	"standing"
	"standing/checker"
	"standing/identity"
)

// accountView is an account with its standing: lifecycle, active restrictions (with
// message and remedy) and the capabilities it keeps and has lost.
type accountView struct {
	standing.Account
	Restrictions []standing.Restriction `json:"restrictions"`
	Capabilities standing.CapabilitySet `json:"capabilities"`
	Denied       standing.CapabilitySet `json:"denied"`
}

func viewAccount(a standing.Account, st *standing.Standing, now time.Time) accountView {
	v := accountView{Account: a, Restrictions: []standing.Restriction{}}
	if st != nil {
		v.Account.Lifecycle = st.Lifecycle
		v.Restrictions = st.Active(now)
		v.Capabilities = st.Capabilities(now)
		v.Denied = v.Capabilities.Complement()
	}
	return v
}

type createAccountsRequest struct {
	standing.NewAccount
	Accounts []standing.NewAccount `json:"accounts"`
}

type batchResult struct {
	Index        int                    `json:"index"`
	Status       int                    `json:"status"`
	Account      *standing.Account      `json:"account,omitempty"`
	Restrictions []standing.Restriction `json:"restrictions,omitempty"`
	Error        *Problem               `json:"error,omitempty"`
}

// handleCreateAccounts serves POST /v1/accounts: one account, or {"accounts": [...]} to
// import up to 1,000 at once. In a batch, each item succeeds or fails on its own.
func handleCreateAccounts(store standing.AccountWriter, c *checker.Cache, policy func() *standing.Policy, clock standing.Clock) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in createAccountsRequest
		if err := decode(w, r, &in, maxBatchBody); err != nil {
			return err
		}
		actor := actorOf(r, "")
		if in.Accounts == nil {
			if err := identity.Account(&in.NewAccount, ""); err != nil {
				return err
			}
			if err := checkImportRestrictions(policy(), clock.Now(), &in.NewAccount, ""); err != nil {
				return err
			}
			res, err := store.CreateAccounts(r.Context(), []standing.NewAccount{in.NewAccount}, actor)
			if err != nil {
				return err
			}
			if res[0].Err != nil {
				return res[0].Err
			}
			st, err := c.Standing(r.Context(), res[0].Account.ID)
			if err != nil {
				return err
			}
			return writeJSON(w, http.StatusCreated, viewAccount(*res[0].Account, st, clock.Now()))
		}
		if in.NewAccount.Email != "" || in.NewAccount.Role != "" {
			return standing.Errorf(standing.EINVALID, "send either one account or {\"accounts\": [...]}, not both")
		}
		if len(in.Accounts) == 0 || len(in.Accounts) > standing.MaxBatch {
			return standing.FieldErrorf(standing.EINVALID, "accounts", "a batch holds 1 to %d accounts, not %d", standing.MaxBatch, len(in.Accounts))
		}
		results := make([]batchResult, len(in.Accounts))
		var valid []standing.NewAccount
		var validIdx []int
		seen := map[string]int{}
		for i := range in.Accounts {
			prefix := fmt.Sprintf("accounts[%d].", i)
			results[i].Index = i
			err := identity.Account(&in.Accounts[i], prefix)
			if err == nil {
				err = checkImportRestrictions(policy(), clock.Now(), &in.Accounts[i], prefix)
			}
			if err == nil {
				if j, dup := seen[in.Accounts[i].Email]; dup {
					err = standing.FieldErrorf(standing.ECONFLICT, prefix+"email", "the email %s is also in accounts[%d] of this batch", in.Accounts[i].Email, j)
				}
			}
			if err != nil {
				p := ProblemFor(err, r.URL.Path)
				results[i].Status, results[i].Error = p.Status, &p
				continue
			}
			seen[in.Accounts[i].Email] = i
			valid = append(valid, in.Accounts[i])
			validIdx = append(validIdx, i)
		}
		if len(valid) > 0 {
			res, err := store.CreateAccounts(r.Context(), valid, actor)
			if err != nil {
				return err
			}
			for k, cr := range res {
				i := validIdx[k]
				if cr.Err != nil {
					p := ProblemFor(cr.Err, r.URL.Path)
					if p.Field != "" {
						p.Field = fmt.Sprintf("accounts[%d].%s", i, p.Field)
					}
					results[i].Status, results[i].Error = p.Status, &p
					continue
				}
				results[i].Status, results[i].Account, results[i].Restrictions = http.StatusCreated, cr.Account, cr.Restrictions
			}
		}
		created := 0
		for _, res := range results {
			if res.Status == http.StatusCreated {
				created++
			}
		}
		return writeJSON(w, http.StatusOK, map[string]any{"created": created, "failed": len(results) - created, "results": results})
	}
}

// checkImportRestrictions checks the reason codes an imported account carries before
// anything is written, so a bad code fails only its own item.
func checkImportRestrictions(p *standing.Policy, now time.Time, a *standing.NewAccount, prefix string) error {
	for i, nr := range a.Restrictions {
		if _, err := nr.Resolve(p, "", a.Role, now); err != nil {
			return prefixField(err, fmt.Sprintf("%srestrictions[%d].", prefix, i))
		}
	}
	return nil
}

// handleGetAccount serves GET /v1/accounts/{id}: the account and its standing.
func handleGetAccount(accounts standing.AccountReader, c *checker.Cache, clock standing.Clock) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		a, err := accounts.Account(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		st, err := c.Standing(r.Context(), a.ID)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, viewAccount(a, st, clock.Now()))
	}
}

// handleTimeline serves GET /v1/accounts/{id}/timeline: the account's audit entries.
func handleTimeline(accounts standing.AccountReader, audit standing.AuditLog) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		if _, err := accounts.Account(r.Context(), id); err != nil {
			return err
		}
		after, err := queryInt(r, "after", 0, 1<<62)
		if err != nil {
			return err
		}
		limit, err := queryInt(r, "limit", 100, 1000)
		if err != nil {
			return err
		}
		entries, err := audit.Timeline(r.Context(), id, int64(after), limit)
		if err != nil {
			return err
		}
		out := map[string]any{"entries": entries}
		if len(entries) == limit && limit > 0 {
			out["next_after"] = entries[len(entries)-1].Seq
		}
		return writeJSON(w, http.StatusOK, out)
	}
}
