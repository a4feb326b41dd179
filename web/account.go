package web

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"standing"
)

type accountData struct {
	Verified       bool
	Role           string
	Since          string
	LifecycleWords string
	ConfirmBy      string
	Restrictions   []restrictionView
	ClosedOrders   []orderView
	// ProfilePaused is why the person cannot change their profile now (a restriction
	// removes change_profile), shown instead of the profile form.
	ProfilePaused string
}

// restrictionView is a restriction in the words the person reads: why, what is paused,
// what still works, until when, what to do, and by when a review answers.
type restrictionView struct {
	ID, ReasonCode, Title, Message, Remedy, RemedyAction string
	Removed, StillWorks, Until, ReviewBy                 string
	Appealable, Severe                                   bool
	// AppealID is the open appeal against it, shown instead of "Appeal"; AppealEnded says
	// when the time to appeal ended, once it has.
	AppealID, AppealEnded string
}

// requireAccount sends people who are not signed in to the sign-in page and back.
func (s *Server) requireAccount(w http.ResponseWriter, r *http.Request) *standing.Account {
	acc, _ := s.current(r)
	if acc == nil {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	}
	return acc
}

// accountPage serves GET /account.
func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	acc := s.requireAccount(w, r)
	if acc == nil {
		return
	}
	data, err := s.accountData(r, acc)
	if err != nil {
		s.renderStatus(w, r, statusFor(err), "message", "Your account", acc, standing.ErrorMessage(err), message{Text: "Try again in a moment."})
		return
	}
	s.render(w, r, "account", "Your account", &page{Account: acc, Form: profileForm(acc), Data: data})
}

// profileForm is the profile form filled with the account's details.
func profileForm(acc *standing.Account) map[string]string {
	return map[string]string{"name": acc.Name, "phone": acc.Phone, "country": acc.Country}
}

func (s *Server) accountData(r *http.Request, acc *standing.Account) (accountData, error) {
	p := s.d.Policy()
	now := s.d.Clock.Now()
	st, err := s.d.Standing(r.Context(), acc.ID)
	if err != nil {
		return accountData{}, err
	}
	d := accountData{Verified: acc.EmailVerifiedAt != nil, Role: string(acc.Role), Since: acc.CreatedAt.UTC().Format("2 Jan 2006")}
	if dec := st.Check(standing.CapChangeProfile, now); !dec.Allowed {
		d.ProfilePaused = dec.Message
	}
	active := st.Active(now)
	switch st.Lifecycle {
	case standing.LifecycleUnverified:
		d.LifecycleWords = "Open — your email address is not confirmed yet."
		deadline := acc.CreatedAt.Add(p.VerificationDeadline.D())
		if now.Before(deadline) {
			d.ConfirmBy = standing.FormatTime(deadline)
		}
	case standing.LifecycleActive:
		d.LifecycleWords = "Open."
	case standing.LifecycleClosing:
		d.LifecycleWords = "Being deleted, as you asked."
	case standing.LifecycleErased:
		d.LifecycleWords = "Deleted."
	}
	if len(active) > 0 && st.Lifecycle != standing.LifecycleClosing {
		d.LifecycleWords += " Some things are limited; see below."
	}
	openAppeal := map[string]string{}
	if list, err := s.appealsOf(r, acc.ID); err == nil {
		for _, a := range list {
			if a.RestrictionID != "" && a.Status.Open() {
				openAppeal[a.RestrictionID] = a.ID
			}
		}
	}
	for _, r := range active {
		v := restrictionView{ID: r.ID, ReasonCode: r.ReasonCode, Title: r.Title, Message: r.Message, Remedy: r.Remedy,
			Removed: r.Removes.Words(), StillWorks: r.Removes.Complement().Words(), Appealable: r.Appealable, Severe: r.Severity >= 80}
		if reason, ok := p.Reason(r.ReasonCode); ok {
			v.RemedyAction = reason.RemedyAction
		}
		if r.Removes == 0 {
			v.Removed = "nothing on your account (see the message)"
		}
		if r.EndsAt != nil {
			v.Until = "It ends by itself on " + standing.FormatTime(*r.EndsAt) + "."
		} else {
			v.Until = "Until it is lifted — by an appeal, a reviewer, or the remedy below."
		}
		switch closes := p.AppealClosesAt(r.StartsAt); {
		case !r.Appealable:
		case openAppeal[r.ID] != "":
			v.AppealID = openAppeal[r.ID]
			v.ReviewBy = "You appealed; a person is reviewing it."
		case now.After(closes):
			v.AppealEnded = standing.FormatTime(closes)
			v.ReviewBy = "The time to appeal this decision ended on " + v.AppealEnded + "."
		default:
			v.ReviewBy = "A person reviews every appeal. If you appeal now, you get an answer by " +
				standing.FormatTime(now.Add(p.Appeals.ReviewTarget.D())) + " (within " + hours(p.Appeals.ReviewTarget.D()) + "). " +
				"You can appeal until " + standing.FormatTime(closes) + "."
		}
		d.Restrictions = append(d.Restrictions, v)
	}
	if s.d.Orders != nil {
		views, err := s.orderViews(r.Context(), acc.ID)
		if err != nil {
			return d, err
		}
		for _, o := range views {
			if o.Closed {
				d.ClosedOrders = append(d.ClosedOrders, o)
			}
		}
	}
	return d, nil
}

// appealsOf lists the account's appeals; none when the server runs without appeals.
func (s *Server) appealsOf(r *http.Request, accountID string) ([]standing.Appeal, error) {
	if s.d.Appeals == nil {
		return nil, nil
	}
	return s.d.Appeals.AppealsOf(r.Context(), accountID)
}

func hours(d time.Duration) string { return fmt.Sprintf("%d hours", int(d.Hours())) }

// reactivate serves POST /account/reactivate: the "Reactivate" button of a paused account
// sends a fresh confirmation link.
func (s *Server) reactivate(w http.ResponseWriter, r *http.Request) {
	acc := s.requireAccount(w, r)
	if acc == nil {
		return
	}
	if err := s.d.Auth.Resend(r.Context(), acc.ID, clientIP(r)); err != nil {
		data, derr := s.accountData(r, acc)
		if derr != nil {
			data = accountData{}
		}
		s.renderPage(w, r, statusFor(err), "account", "Your account", &page{Account: acc, Error: standing.ErrorMessage(err), Data: data})
		return
	}
	http.Redirect(w, r, "/account?notice=resent", http.StatusSeeOther)
}

// changeProfile serves POST /account/profile: the "Your profile" form of /account. A
// field the form leaves out stays as it is; an emptied one is cleared. Errors show next
// to their field with the typed values kept; success returns to /account.
func (s *Server) changeProfile(w http.ResponseWriter, r *http.Request) {
	acc := s.requireAccount(w, r)
	if acc == nil {
		return
	}
	c := standing.ProfileChange{Name: formValue(r, "name"), Phone: formValue(r, "phone"), Country: formValue(r, "country")}
	after, err := s.d.Auth.ChangeProfile(r.Context(), acc.ID, c, clientIP(r))
	if err != nil {
		form := profileForm(acc)
		for k := range form {
			if v := formValue(r, k); v != nil {
				form[k] = *v
			}
		}
		fe, msg := fieldErrors(err)
		data, derr := s.accountData(r, acc)
		if derr != nil {
			data = accountData{}
		}
		s.renderPage(w, r, statusFor(err), "account", "Your account", &page{Account: acc, Form: form, FieldErrors: fe, Error: msg, Data: data})
		return
	}
	notice := "profile_saved"
	if after.Name == acc.Name && after.Phone == acc.Phone && after.Country == acc.Country {
		notice = "profile_unchanged"
	}
	http.Redirect(w, r, "/account?notice="+notice, http.StatusSeeOther)
}

// formValue returns a posted field, or nil when the form did not send it.
func formValue(r *http.Request, name string) *string {
	if _, ok := r.PostForm[name]; !ok {
		return nil
	}
	v := r.PostForm.Get(name)
	return &v
}
