package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"standing"
)

const consoleCookie = "standing_console"

// staff returns the signed-in reviewer, or sends the browser to the console's sign-in.
func (s *Server) staff(w http.ResponseWriter, r *http.Request) *standing.StaffUser {
	if c, err := r.Cookie(consoleCookie); err == nil {
		if u, err := s.d.Appeals.StaffSession(r.Context(), c.Value); err == nil {
			return &u
		}
	}
	if r.Method == http.MethodGet {
		http.Redirect(w, r, "/console/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	} else {
		s.renderStatus(w, r, http.StatusUnauthorized, "message", "Reviewer console", nil, "Sign in to the console first.", message{Link: &link{Href: "/console/login", Label: "Sign in"}})
	}
	return nil
}

// consoleLoginPage serves GET /console/login.
func (s *Server) consoleLoginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "console_login", "Reviewer console", &page{Form: map[string]string{"next": r.URL.Query().Get("next")}})
}

// consoleLogin serves POST /console/login.
func (s *Server) consoleLogin(w http.ResponseWriter, r *http.Request) {
	form := map[string]string{"email": r.PostFormValue("email")}
	token, _, err := s.d.Appeals.StaffSignIn(r.Context(), form["email"], r.PostFormValue("password"))
	if err != nil {
		s.renderPage(w, r, statusFor(err), "console_login", "Reviewer console", &page{Form: form, Error: standing.ErrorMessage(err)})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: consoleCookie, Value: token, Path: "/console", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.secure(r), MaxAge: s.maxAge(s.d.Clock.Now().Add(s.d.Policy().SignIn.StaffSessionLifetime.D()))})
	next := r.PostFormValue("next")
	if !strings.HasPrefix(next, "/console") {
		next = "/console"
	}
	http.Redirect(w, r, localPath(next), http.StatusSeeOther)
}

// consoleLogout serves POST /console/logout.
func (s *Server) consoleLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(consoleCookie); err == nil {
		_ = s.d.Appeals.StaffSignOut(r.Context(), c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: consoleCookie, Value: "", Path: "/console", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.secure(r)})
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
}

type queueRow struct {
	ID, Due, Reason, Status, Assigned string
	Breached, NearBreach, Urgent      bool
}

// consoleQueue serves GET /console: open appeals, highest priority and earliest due first.
func (s *Server) consoleQueue(w http.ResponseWriter, r *http.Request) {
	u := s.staff(w, r)
	if u == nil {
		return
	}
	q := r.URL.Query()
	f := standing.QueueFilter{Status: standing.AppealStatus(q.Get("status")), ReasonCode: q.Get("reason"), Limit: 100}
	bad := ""
	if f.Status != "" && !f.Status.Valid() {
		bad = "There is no appeal status “" + shorten(string(f.Status), 40) + "”; filter by submitted, in_review or needs_info."
	} else if _, ok := s.d.Policy().Reason(f.ReasonCode); f.ReasonCode != "" && !ok {
		bad = "There is no reason “" + shorten(f.ReasonCode, 40) + "” in the catalog; choose one from the list."
	}
	if bad != "" {
		s.renderPage(w, r, http.StatusUnprocessableEntity, "message", "Queue", &page{Staff: u, Error: bad, Data: message{Link: &link{Href: "/console", Label: "Back to the queue"}}})
		return
	}
	if q.Get("mine") == "1" {
		f.AssignedTo = u.ID
	}
	list, err := s.d.Appeals.Queue(r.Context(), f)
	if err != nil {
		s.renderPage(w, r, statusFor(err), "message", "Queue", &page{Staff: u, Error: standing.ErrorMessage(err), Data: message{}})
		return
	}
	names := s.staffNames(r)
	now := s.d.Clock.Now()
	var rows []queueRow
	for _, a := range list {
		rows = append(rows, queueRow{ID: a.ID, Due: standing.FormatTime(a.DueAt), Reason: a.ReasonCode, Status: string(a.Status),
			Assigned: names[a.AssignedTo], Urgent: a.Urgent, Breached: a.BreachedAt != nil || !now.Before(a.BreachAt),
			NearBreach: a.EscalatedAt != nil})
	}
	open, oldest, breached, _ := s.d.Appeals.Stats(r.Context())
	stats := "Nothing waits."
	if open > 0 {
		stats = plural(open, "appeal") + " open, the oldest sent " + standing.FormatTime(oldest) + "; " + plural(breached, "breach") + "."
	}
	s.render(w, r, "console_queue", "Appeals queue", &page{Staff: u, Data: map[string]any{
		"Staff": u, "Rows": rows, "Status": string(f.Status), "Reason": f.ReasonCode, "Mine": f.AssignedTo != "", "Stats": stats,
		"Statuses": []string{"submitted", "in_review", "needs_info"}, "Reasons": s.d.Policy().ReasonCodes()}})
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if strings.HasSuffix(word, "ch") {
		return strconv.Itoa(n) + " " + word + "es"
	}
	return strconv.Itoa(n) + " " + word + "s"
}

func (s *Server) staffNames(r *http.Request) map[string]string {
	out := map[string]string{}
	if list, err := s.d.Appeals.StaffUsers(r.Context()); err == nil {
		for _, u := range list {
			out[u.ID] = u.Name
		}
	}
	return out
}

// consoleClaim serves POST /console/appeals/{id}/claim.
func (s *Server) consoleClaim(w http.ResponseWriter, r *http.Request) {
	u := s.staff(w, r)
	if u == nil {
		return
	}
	if err := s.d.Appeals.Claim(r.Context(), r.PathValue("id"), *u, r.PostFormValue("assignee")); err != nil {
		s.renderPage(w, r, statusFor(err), "message", "Claim", &page{Staff: u, Error: standing.ErrorMessage(err), Data: message{Link: &link{Href: "/console", Label: "Back to the queue"}}})
		return
	}
	http.Redirect(w, r, "/console/appeals/"+r.PathValue("id"), http.StatusSeeOther)
}

type evidenceView struct {
	standing.Evidence
	Link string
}

// consoleCase serves GET /console/appeals/{id}: everything a reviewer needs to decide.
func (s *Server) consoleCase(w http.ResponseWriter, r *http.Request) {
	u := s.staff(w, r)
	if u == nil {
		return
	}
	s.renderCase(w, r, u, http.StatusOK, nil, "", nil)
}

func (s *Server) renderCase(w http.ResponseWriter, r *http.Request, u *standing.StaffUser, status int, fieldErrs map[string]string, topErr string, form map[string]string) {
	a, err := s.d.Appeals.Appeal(r.Context(), r.PathValue("id"))
	if err != nil {
		s.renderPage(w, r, statusFor(err), "message", "Appeal", &page{Staff: u, Error: standing.ErrorMessage(err), Data: message{Link: &link{Href: "/console", Label: "Back to the queue"}}})
		return
	}
	acc, err := s.d.Accounts.Account(r.Context(), a.AccountID)
	if err != nil {
		s.renderPage(w, r, statusFor(err), "message", "Appeal", &page{Staff: u, Error: standing.ErrorMessage(err), Data: message{}})
		return
	}
	data := map[string]any{"Appeal": a, "Account": acc, "Since": acc.CreatedAt.UTC().Format("2 Jan 2006"),
		"Due": standing.FormatTime(a.DueAt), "Open": a.Status.Open(), "NearBreach": a.EscalatedAt != nil,
		"Breached": a.BreachedAt != nil || !s.d.Clock.Now().Before(a.BreachAt), "Assigned": s.staffNames(r)[a.AssignedTo],
		"NeedsTwo": a.ReasonCode == standing.ReasonFraudConfirmed}
	// The decision appealed: the restriction, or the one the rule made when it closed the
	// order (with the order's words to the buyer).
	restrictionID := a.RestrictionID
	if a.OrderID != "" && s.d.Orders != nil {
		if o, err := s.d.Orders.Order(r.Context(), a.OrderID); err == nil && o.BuyerID == a.AccountID {
			data["Order"] = o
			if s.d.Explain != nil && o.ClosedRuleID != "" {
				data["Explanation"] = s.d.Explain(r.Context(), o.ClosedRuleID, a.AccountID)
			}
			if restrictionID == "" {
				restrictionID = o.ClosedRestrictionID
			}
		}
	}
	if restrictionID != "" {
		if res, err := s.d.Restrictions.Restriction(r.Context(), restrictionID); err == nil {
			data["Restriction"] = res
			if s.d.Explain != nil && res.RuleID != "" {
				data["Explanation"] = s.d.Explain(r.Context(), res.RuleID, res.AccountID)
			}
		}
	}
	var ev []evidenceView
	for _, e := range a.Evidence {
		ev = append(ev, evidenceView{Evidence: e, Link: s.d.Appeals.EvidenceLink(e.ID)})
	}
	data["Evidence"] = ev
	if list, err := s.d.Appeals.StaffUsers(r.Context()); err == nil {
		data["StaffList"] = list
	}
	if a.ReasonCode == standing.ReasonFraudConfirmed {
		data["Votes"] = s.d.Appeals.VotesWords(r.Context(), a.ID)
	}
	if tl, err := s.d.Audit.Timeline(r.Context(), a.AccountID, 0, 200); err == nil {
		data["Timeline"] = tl
	}
	s.renderPage(w, r, status, "console_case", "Appeal "+a.ID, &page{Staff: u, FieldErrors: fieldErrs, Error: topErr, Form: form, Data: data})
}

// consoleDecide serves POST /console/appeals/{id}/decide.
func (s *Server) consoleDecide(w http.ResponseWriter, r *http.Request) {
	u := s.staff(w, r)
	if u == nil {
		return
	}
	res, err := s.d.Appeals.Decide(r.Context(), *u, r.PathValue("id"), r.PostFormValue("decision"), r.PostFormValue("note"))
	if err != nil {
		fe, msg := fieldErrors(err)
		s.renderCase(w, r, u, statusFor(err), fe, msg, map[string]string{"note": r.PostFormValue("note")})
		return
	}
	notice := "decided"
	if res.Pending {
		notice = "second_reviewer"
	}
	http.Redirect(w, r, "/console/appeals/"+r.PathValue("id")+"?notice="+notice, http.StatusSeeOther)
}

// consoleEvidence serves GET /console/evidence/{id}?exp=…&sig=…: a document shown inline to
// a signed-in reviewer through a short-lived signed link.
func (s *Server) consoleEvidence(w http.ResponseWriter, r *http.Request) {
	u := s.staff(w, r)
	if u == nil {
		return
	}
	e, rc, err := s.d.Appeals.OpenSignedEvidence(r.Context(), r.PathValue("id"), r.URL.Query().Get("exp"), r.URL.Query().Get("sig"))
	if err != nil {
		if rc != nil {
			rc.Close()
		}
		http.Error(w, standing.ErrorMessage(err), statusFor(err))
		return
	}
	defer rc.Close()
	serveEvidence(w, e, rc)
}
