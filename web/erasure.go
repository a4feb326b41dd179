package web

import (
	"net/http"
	"strings"

	"standing"
)

type deleteData struct {
	EraseAt, Grace, Balance, Phrase string
	InvoiceYears                    int
	Preconditions                   []standing.Precondition
	Reasons                         []string
}

func (s *Server) deleteData(r *http.Request, acc *standing.Account) (deleteData, error) {
	p := s.d.Policy()
	pre, balances, err := s.d.Erasure.Preconditions(r.Context(), acc.ID)
	if err != nil {
		return deleteData{}, err
	}
	d := deleteData{EraseAt: standing.FormatTime(s.d.Clock.Now().Add(p.ErasureGrace.D())), Grace: hours(p.ErasureGrace.D()),
		Phrase: p.Deletion.Phrase, Preconditions: pre, Reasons: p.Deletion.Reasons, InvoiceYears: int(p.Retention.Invoices.D().Hours() / 24 / 365)}
	if len(balances) > 0 {
		d.Balance = standing.MoneyWords(balances)
	}
	return d, nil
}

// deletePage serves GET /account/delete.
func (s *Server) deletePage(w http.ResponseWriter, r *http.Request) {
	acc := s.requireAccount(w, r)
	if acc == nil {
		return
	}
	d, err := s.deleteData(r, acc)
	if err != nil {
		s.renderStatus(w, r, statusFor(err), "message", "Delete your account", acc, standing.ErrorMessage(err), message{})
		return
	}
	s.render(w, r, "account_delete", "Delete your account", &page{Account: acc, Data: d})
}

// deleteAccount serves POST /account/delete.
func (s *Server) deleteAccount(w http.ResponseWriter, r *http.Request) {
	acc := s.requireAccount(w, r)
	if acc == nil {
		return
	}
	form := map[string]string{"confirm_email": r.PostFormValue("confirm_email"), "phrase": r.PostFormValue("phrase"), "reason": r.PostFormValue("reason")}
	e, err := s.d.Erasure.Request(r.Context(), standing.DeletionRequest{AccountID: acc.ID, ConfirmEmail: form["confirm_email"],
		Phrase: form["phrase"], Reason: form["reason"], ForfeitWallet: r.PostFormValue("forfeit_wallet") == "1", RequestedBy: "self"})
	if err != nil {
		d, derr := s.deleteData(r, acc)
		if derr != nil {
			err = derr
		}
		fe, msg := fieldErrors(err)
		if standing.ErrorCode(err) == standing.ECONFLICT {
			fe, msg = map[string]string{standing.ErrorField(err): standing.ErrorMessage(err)}, standing.ErrorMessage(err)
		}
		s.renderPage(w, r, statusFor(err), "account_delete", "Delete your account", &page{Account: acc, Form: form, FieldErrors: fe, Error: msg, Data: d})
		return
	}
	s.clearSession(w, r)
	s.renderPage(w, r, http.StatusOK, "message", "Your account will be deleted", &page{Account: nil, Staff: nil, Data: message{
		Text: "You are signed out everywhere. Your personal data will be erased on " + standing.FormatTime(e.ScheduledFor) +
			". Changed your mind? Contact support before then and we can restore the account."}})
}

type trackView struct{ Number, Status, Updated string }

var statusWords = map[string]string{
	"pending_payment": "Waiting for payment", "paid": "Paid, being prepared", "shipped": "On its way",
	"completed": "Delivered", "cancelled": "Cancelled", "closed_by_risk": "Closed",
}

// trackPage serves GET /track/{number} and /track?number=: an order's status by tracking
// number, without an account and without personal data — also after the buyer's erasure.
func (s *Server) trackPage(w http.ResponseWriter, r *http.Request) {
	number := r.PathValue("number")
	if number == "" {
		number = r.URL.Query().Get("number")
	}
	number = strings.TrimSpace(number)
	p := &page{Form: map[string]string{"number": number}}
	if number == "" {
		s.render(w, r, "track", "Track a parcel", p)
		return
	}
	st, err := s.d.Erasure.Track(r.Context(), number)
	if err != nil {
		switch standing.ErrorCode(err) {
		case standing.ENOTFOUND:
			p.Error = "There is no parcel with the tracking number " + number + ". Check the number on your shipping notice."
		case standing.EINTERNAL:
			s.d.Log.Error("track a parcel", "err", err)
			p.Error = standing.ErrorMessage(err)
		default:
			p.Error = standing.ErrorMessage(err)
		}
		s.renderPage(w, r, statusFor(err), "track", "Track a parcel", p)
		return
	}
	words := statusWords[st.Status]
	if words == "" {
		words = st.Status
	}
	p.Data = trackView{Number: number, Status: words, Updated: standing.FormatTime(st.UpdatedAt)}
	s.render(w, r, "track", "Track a parcel", p)
}

// consoleAccount serves GET /console/accounts?q=: support finds an account to delete or
// restore at the person's request.
func (s *Server) consoleAccount(w http.ResponseWriter, r *http.Request) {
	u := s.staff(w, r)
	if u == nil {
		return
	}
	s.renderConsoleAccount(w, r, u, http.StatusOK, strings.TrimSpace(r.URL.Query().Get("q")), "", "")
}

func (s *Server) renderConsoleAccount(w http.ResponseWriter, r *http.Request, u *standing.StaffUser, status int, q, notice, errText string) {
	p := s.d.Policy()
	data := map[string]any{"Reasons": p.Deletion.Reasons, "Phrase": p.Deletion.Phrase, "Admin": u.Role == standing.RoleAdmin}
	pg := &page{Staff: u, Form: map[string]string{"q": q}, Notice: notice, Error: errText, Data: data}
	if q != "" {
		acc, err := s.d.Accounts.Account(r.Context(), q)
		if err != nil {
			if norm, nerr := normEmail(q); nerr == nil {
				acc, err = s.d.Accounts.AccountByEmail(r.Context(), norm)
			}
		}
		if err != nil {
			if pg.Error == "" {
				pg.Error = "No live account matches “" + q + "”."
			}
		} else {
			data["Account"] = acc
			if e, err := s.d.Erasure.Latest(r.Context(), acc.ID); err == nil {
				data["Erasure"] = e
				data["EraseAt"] = standing.FormatTime(e.ScheduledFor)
				data["CanRestore"] = e.State == standing.ErasureScheduled && s.d.Clock.Now().Before(e.ScheduledFor)
			}
			data["CanDelete"] = acc.Lifecycle == standing.LifecycleActive || acc.Lifecycle == standing.LifecycleUnverified
		}
	}
	s.renderPage(w, r, status, "console_account", "Account", pg)
}

// consoleRestore serves POST /console/accounts/{id}/restore.
func (s *Server) consoleRestore(w http.ResponseWriter, r *http.Request) {
	u := s.staff(w, r)
	if u == nil {
		return
	}
	id := r.PathValue("id")
	if _, err := s.d.Erasure.Restore(r.Context(), id, "support:"+u.Name); err != nil {
		s.renderConsoleAccount(w, r, u, statusFor(err), id, "", standing.ErrorMessage(err))
		return
	}
	s.renderConsoleAccount(w, r, u, http.StatusOK, id, "The account is restored and its owner was told by mail.", "")
}

// consoleDelete serves POST /console/accounts/{id}/delete: a deletion asked for by mail.
// The preconditions apply; an admin can override them with a note.
func (s *Server) consoleDelete(w http.ResponseWriter, r *http.Request) {
	u := s.staff(w, r)
	if u == nil {
		return
	}
	id := r.PathValue("id")
	override := strings.TrimSpace(r.PostFormValue("override"))
	if override != "" && u.Role != standing.RoleAdmin {
		s.renderConsoleAccount(w, r, u, http.StatusForbidden, id, "", "Only an admin can override the preconditions.")
		return
	}
	if override != "" {
		override = u.Name + ": " + override
	}
	_, err := s.d.Erasure.Request(r.Context(), standing.DeletionRequest{AccountID: id, ConfirmEmail: r.PostFormValue("confirm_email"),
		Phrase: r.PostFormValue("phrase"), Reason: r.PostFormValue("reason"), ForfeitWallet: r.PostFormValue("forfeit_wallet") == "1",
		RequestedBy: "support:" + u.Name, Override: override})
	if err != nil {
		s.renderConsoleAccount(w, r, u, statusFor(err), id, "", standing.ErrorMessage(err))
		return
	}
	s.renderConsoleAccount(w, r, u, http.StatusOK, id, "Deletion requested; the person was signed out and told by mail.", "")
}
