package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"standing"
	"standing/penalty"
)

// consoleSeller is what the console's seller page adds to the dashboard: who the seller is,
// and the violation types the report form offers.
type consoleSeller struct {
	ID, Email, Lifecycle, Since string
	Types                       []standing.ViolationType
}

// consoleSellerFind serves GET /console/sellers: find a seller by account id or email
// (?q=), then go to their page.
func (s *Server) consoleSellerFind(w http.ResponseWriter, r *http.Request) {
	u := s.staff(w, r)
	if u == nil {
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	form := map[string]string{"q": q}
	if q == "" {
		s.render(w, r, "seller_find", "Sellers", &page{Staff: u, Form: form})
		return
	}
	acc, err := s.d.Accounts.Account(r.Context(), q)
	if standing.ErrorCode(err) == standing.ENOTFOUND {
		acc, err = s.d.Accounts.AccountByEmail(r.Context(), strings.ToLower(q))
	}
	if err != nil {
		msg := standing.ErrorMessage(err)
		if standing.ErrorCode(err) == standing.ENOTFOUND {
			msg = "No account has the id or email " + strconv.Quote(q) + "."
		}
		s.renderPage(w, r, statusFor(err), "seller_find", "Sellers", &page{Staff: u, Form: form, FieldErrors: map[string]string{"q": msg}})
		return
	}
	if acc.Role != standing.RoleSeller {
		s.renderPage(w, r, http.StatusUnprocessableEntity, "seller_find", "Sellers", &page{Staff: u, Form: form,
			FieldErrors: map[string]string{"q": "Account " + acc.ID + " is a buyer account; penalties apply only to sellers."}})
		return
	}
	http.Redirect(w, r, "/console/sellers/"+url.PathEscape(acc.ID), http.StatusSeeOther)
}

// consoleSellerPage serves GET /console/sellers/{id}: the seller's standing as the seller
// sees it, the form to report a violation, and a withdraw button on every point entry.
func (s *Server) consoleSellerPage(w http.ResponseWriter, r *http.Request) {
	u := s.staff(w, r)
	if u == nil {
		return
	}
	notice := ""
	q := r.URL.Query()
	if id := q.Get("recorded"); plainID(id) {
		notice = "Violation " + id + " was recorded and the seller was told by mail."
	} else if id := q.Get("withdrawn"); plainID(id) {
		notice = "Violation " + id + " was withdrawn; its points no longer count, and the seller was told by mail."
	}
	s.renderConsoleSeller(w, r, u, http.StatusOK, &page{Notice: notice})
}

// renderConsoleSeller renders the console's seller page for the {id} of the path with the
// page's form, errors and notice.
func (s *Server) renderConsoleSeller(w http.ResponseWriter, r *http.Request, u *standing.StaffUser, status int, p *page) {
	back := message{Link: &link{Href: "/console/sellers", Label: "Find a seller"}}
	acc, err := s.d.Accounts.Account(r.Context(), r.PathValue("id"))
	if err != nil {
		s.renderPage(w, r, statusFor(err), "message", "Seller", &page{Staff: u, Error: standing.ErrorMessage(err), Data: back})
		return
	}
	if s.d.Sellers == nil {
		s.renderPage(w, r, http.StatusServiceUnavailable, "message", "Seller", &page{Staff: u, Error: "Seller penalties are not available on this server.", Data: back})
		return
	}
	st, err := s.d.Sellers.SellerStanding(r.Context(), acc.ID)
	if err != nil {
		s.renderPage(w, r, statusFor(err), "message", "Seller", &page{Staff: u, Error: standing.ErrorMessage(err), Data: back})
		return
	}
	v := s.sellerView(st, true)
	v.Console = &consoleSeller{ID: acc.ID, Email: acc.Email, Lifecycle: string(acc.Lifecycle), Since: dayDate(acc.CreatedAt),
		Types: penalty.ViolationTypes(s.d.Policy())}
	p.Staff, p.Data = u, v
	s.renderPage(w, r, status, "seller", "Seller "+acc.Email, p)
}

// plainID reports whether s looks like one of Standing's ids, safe to repeat in a notice.
func plainID(s string) bool {
	return len(s) > 4 && len(s) < 64 && strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == ""
}

// consoleReportViolation serves POST /console/sellers/{id}/violations: the console's form
// to record a violation. Bad input comes back next to its field, with the form kept; a
// case reported before is refused and counts nothing.
func (s *Server) consoleReportViolation(w http.ResponseWriter, r *http.Request) {
	u := s.staff(w, r)
	if u == nil {
		return
	}
	form := map[string]string{}
	for _, k := range []string{"type", "case_id", "points", "evidence", "note"} {
		form[k] = r.PostFormValue(k)
	}
	rep := penalty.Report{SellerID: r.PathValue("id"), Type: form["type"], CaseID: form["case_id"], Evidence: form["evidence"], Note: form["note"]}
	if p := strings.TrimSpace(form["points"]); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			s.renderConsoleSeller(w, r, u, http.StatusUnprocessableEntity, &page{Form: form, Error: "Please fix the marked field.",
				FieldErrors: map[string]string{"points": "Points are a whole number, like 3; leave the field empty for the type's points."}})
			return
		}
		rep.Points = &n
	}
	if s.d.Sellers == nil {
		s.renderConsoleSeller(w, r, u, http.StatusServiceUnavailable, &page{Form: form})
		return
	}
	rec, _, err := s.d.Sellers.RecordViolation(r.Context(), rep, "staff:"+u.ID, nil)
	if err != nil {
		fe, msg := fieldErrors(err)
		if standing.ErrorCode(err) == standing.ECONFLICT {
			fe, msg = map[string]string{"case_id": standing.ErrorMessage(err)}, "This case was reported before; nothing was recorded."
		}
		s.renderConsoleSeller(w, r, u, statusFor(err), &page{Form: form, FieldErrors: fe, Error: msg})
		return
	}
	http.Redirect(w, r, "/console/sellers/"+url.PathEscape(rec.Violation.SellerID)+"?recorded="+url.QueryEscape(rec.Violation.ID), http.StatusSeeOther)
}

// consoleWithdrawViolation serves POST /console/violations/{id}/withdraw.
func (s *Server) consoleWithdrawViolation(w http.ResponseWriter, r *http.Request) {
	u := s.staff(w, r)
	if u == nil {
		return
	}
	back := message{Link: &link{Href: "/console/sellers", Label: "Find a seller"}}
	if s.d.Sellers == nil {
		s.renderPage(w, r, http.StatusServiceUnavailable, "message", "Withdraw", &page{Staff: u, Error: "Seller penalties are not available on this server.", Data: back})
		return
	}
	v, _, err := s.d.Sellers.WithdrawViolation(r.Context(), r.PathValue("id"), penalty.Withdrawal{
		Note: r.PostFormValue("note"), Actor: "staff:" + u.ID, LiftSanctions: r.PostFormValue("lift") == "1"})
	if err != nil {
		if v.SellerID != "" {
			back.Link = &link{Href: "/console/sellers/" + url.PathEscape(v.SellerID), Label: "Back to the seller"}
		}
		s.renderPage(w, r, statusFor(err), "message", "Withdraw violation", &page{Staff: u, Error: standing.ErrorMessage(err), Data: back})
		return
	}
	http.Redirect(w, r, "/console/sellers/"+url.PathEscape(v.SellerID)+"?withdrawn="+url.QueryEscape(v.ID), http.StatusSeeOther)
}
