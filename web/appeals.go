package web

import (
	"errors"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"standing"
	"standing/appeals"
)

// Limits of a streamed form beyond its body size: each text field, the text of all fields
// together, and the number of parts (text and files). A form page sends a few kilobytes
// of text in a dozen or so parts.
const (
	maxFormField = 64 << 10
	maxFormText  = 1 << 20
	maxFormParts = 100
)

// maxAppealBody bounds an appeal form: every document at the largest limit, plus the text.
func (s *Server) maxAppealBody() int64 {
	p := s.d.Policy().Evidence
	return int64(standing.MaxEvidence)*int64(max(p.PhotoMax, p.PDFMax, p.VideoMax)) + maxFormText
}

type slotView struct {
	standing.DocumentRequest
	Staged *standing.Evidence
	Error  string
}

type appealFormData struct {
	Title, Message, AnswerBy   string
	RestrictionID, OrderID     string
	PhotoMax, PDFMax, VideoMax string
	Slots                      []slotView
	Staged                     []standing.Evidence
}

// appealTarget finds what the person appeals: one of their restrictions, or an order of
// theirs closed by risk.
func (s *Server) appealTarget(r *http.Request, acc *standing.Account, restrictionID, orderID string) (appealFormData, string, error) {
	p := s.d.Policy()
	d := appealFormData{RestrictionID: restrictionID, OrderID: orderID,
		AnswerBy: standing.FormatTime(s.d.Clock.Now().Add(p.Appeals.ReviewTarget.D())),
		PhotoMax: p.Evidence.PhotoMax.String(), PDFMax: p.Evidence.PDFMax.String(), VideoMax: p.Evidence.VideoMax.String()}
	reason := ""
	switch {
	case restrictionID != "":
		res, err := s.d.Restrictions.Restriction(r.Context(), restrictionID)
		if err != nil || res.AccountID != acc.ID {
			return d, "", standing.Errorf(standing.ENOTFOUND, "There is no such restriction on your account.")
		}
		if !res.Appealable {
			return d, "", standing.Errorf(standing.EINVALID, "“%s” cannot be appealed. What you can do: %s", res.Title, res.Remedy)
		}
		if closes := p.AppealClosesAt(res.StartsAt); s.d.Clock.Now().After(closes) {
			return d, "", standing.Errorf(standing.EGONE, "The time to appeal “%s” ended on %s.", res.Title, standing.FormatTime(closes))
		}
		d.Title, d.Message, reason = res.Title, res.Message, res.ReasonCode
	case orderID != "":
		o, err := s.d.Appeals.ClosedOrder(r.Context(), acc.ID, orderID)
		if err != nil {
			return d, "", err
		}
		d.Title, d.Message, reason = "Order "+o.ID+" was closed", o.Reason, o.ReasonCode
	default:
		return d, "", standing.Errorf(standing.EINVALID, "Choose the restriction or order to appeal from your account page.")
	}
	for _, doc := range s.d.Appeals.Requirements(reason) {
		d.Slots = append(d.Slots, slotView{DocumentRequest: doc})
	}
	d.Slots = append(d.Slots, slotView{DocumentRequest: standing.DocumentRequest{Key: "other", Label: "Anything else (optional)",
		Help: "A document, screenshot or short video that supports your appeal."}})
	return d, reason, nil
}

// newAppealPage serves GET /appeals/new?restriction=… or ?order=….
func (s *Server) newAppealPage(w http.ResponseWriter, r *http.Request) {
	acc := s.requireAccount(w, r)
	if acc == nil {
		return
	}
	d, _, err := s.appealTarget(r, acc, r.URL.Query().Get("restriction"), r.URL.Query().Get("order"))
	if err != nil {
		s.renderStatus(w, r, statusFor(err), "message", "Appeal", acc, standing.ErrorMessage(err), message{Link: &link{Href: "/account", Label: "Back to your account"}})
		return
	}
	s.render(w, r, "appeal_new", "Appeal", &page{Account: acc, Data: d})
}

// multipartForm reads a multipart form as it streams: the CSRF token must come first (it
// is the form's first field), text fields must be among fields and are bounded one by one
// and together, file fields are named file_…, at most standing.MaxEvidence files come in
// one form, and each goes to upload as it arrives, so a 50 MB video never sits in memory
// twice. Errors of single files are collected per field; the rest of the form is kept.
func (s *Server) multipartForm(w http.ResponseWriter, r *http.Request, fields []string, upload func(field, filename string, body io.Reader) error) (map[string][]string, map[string]error, error) {
	r.Body = http.MaxBytesReader(w, r.Body, s.maxAppealBody())
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nil, standing.Errorf(standing.EMALFORMED, "The form could not be read. Reload the page and try again.")
	}
	values := map[string][]string{}
	fieldErrs := map[string]error{}
	first := true
	parts, text, files := 0, 0, 0
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, readFormError(err, s.maxAppealBody())
		}
		if parts++; parts > maxFormParts {
			return nil, nil, standing.Errorf(standing.ETOOLARGE, "The form has more than %d fields. Reload the page and send it from there.", maxFormParts)
		}
		name := part.FormName()
		if first {
			first = false
			tok, _ := io.ReadAll(io.LimitReader(part, 200))
			c, cerr := r.Cookie(csrfCookie)
			if name != "csrf" || cerr != nil || c.Value == "" || c.Value != string(tok) {
				return nil, nil, errCSRF
			}
			continue
		}
		isFile := strings.HasPrefix(name, "file_")
		if !isFile && !slices.Contains(fields, name) {
			return nil, nil, standing.Errorf(standing.EINVALID, "The form has a field “%s” this page does not send. Reload the page and send it from there.", shorten(name, 40))
		}
		if part.FileName() == "" {
			if isFile { // a file input left empty
				io.Copy(io.Discard, part)
				continue
			}
			b, err := io.ReadAll(io.LimitReader(part, maxFormField+1))
			if err != nil {
				return nil, nil, readFormError(err, s.maxAppealBody())
			}
			if len(b) > maxFormField {
				return nil, nil, standing.FieldErrorf(standing.ETOOLARGE, name, "The field “%s” is longer than %s. Shorten it and send the form again.", name, standing.ByteSize(maxFormField))
			}
			if text += len(b); text > maxFormText {
				return nil, nil, standing.Errorf(standing.ETOOLARGE, "The text of the form is longer than %s altogether. Shorten it and send the form again.", standing.ByteSize(maxFormText))
			}
			values[name] = append(values[name], string(b))
			continue
		}
		if !isFile {
			return nil, nil, standing.Errorf(standing.EINVALID, "The field “%s” cannot hold a file. Reload the page and send it from there.", name)
		}
		if files++; files > standing.MaxEvidence {
			return nil, nil, standing.Errorf(standing.ETOOLARGE, "Send at most %d files at a time.", standing.MaxEvidence)
		}
		if err := upload(name, part.FileName(), part); err != nil {
			if standing.ErrorCode(err) == standing.EINTERNAL {
				return nil, nil, err
			}
			fieldErrs[name] = err
		}
		io.Copy(io.Discard, part)
	}
	return values, fieldErrs, nil
}

// readFormError is the error of a form that could not be read: too large, or broken.
func readFormError(err error, limit int64) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return standing.Errorf(standing.ETOOLARGE, "The form is larger than %s altogether. Send fewer or smaller files.", standing.ByteSize(limit))
	}
	return standing.Errorf(standing.EMALFORMED, "The form could not be read: %v", err)
}

// shorten cuts s to at most n bytes, on a rune boundary, marking the cut with "…".
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// filesStatus is the status of a form some of whose files were refused: 413 when one is
// too large, else the status of the first refused field's code.
func filesStatus(errs map[string]error) int {
	status := 0
	for _, field := range slices.Sorted(maps.Keys(errs)) {
		if status == 0 || standing.ErrorCode(errs[field]) == standing.ETOOLARGE {
			status = statusFor(errs[field])
		}
	}
	return status
}

// messages returns the message of each field's error, to show next to the field.
func messages(errs map[string]error) map[string]string {
	out := make(map[string]string, len(errs))
	for field, err := range errs {
		out[field] = standing.ErrorMessage(err)
	}
	return out
}

var errCSRF = standing.Errorf(standing.EFORBIDDEN, "This form's security token is missing or out of date. Reload the page and send it again.")

func first(v map[string][]string, k string) string {
	if len(v[k]) > 0 {
		return v[k][0]
	}
	return ""
}

// appealFields are the text fields of the appeal form (templates/appeal_new.html).
var appealFields = []string{"restriction_id", "order_id", "staged", "statement", "urgent", "urgent_reason"}

// submitAppeal serves POST /appeals.
func (s *Server) submitAppeal(w http.ResponseWriter, r *http.Request) {
	acc := s.requireAccount(w, r)
	if acc == nil {
		return
	}
	var uploaded []standing.Evidence
	values, fileErrs, err := s.multipartForm(w, r, appealFields, func(field, filename string, body io.Reader) error {
		e, err := s.d.Appeals.Upload(r.Context(), acc.ID, strings.TrimPrefix(field, "file_"), field, filename, body)
		if err == nil {
			uploaded = append(uploaded, e)
		}
		return err
	})
	if err != nil {
		s.renderStatus(w, r, statusFor(err), "message", "Appeal", acc, standing.ErrorMessage(err), message{Link: &link{Href: "/account", Label: "Back to your account"}})
		return
	}
	// Files staged by an earlier try of this form, then the new ones; a new file for a slot
	// replaces the older one.
	staged, err := s.d.Appeals.Staged(r.Context(), acc.ID, values["staged"])
	if err != nil {
		s.renderStatus(w, r, statusFor(err), "message", "Appeal", acc, standing.ErrorMessage(err), message{})
		return
	}
	bySlot := map[string]standing.Evidence{}
	var order []string
	for _, e := range append(staged, uploaded...) {
		if _, seen := bySlot[e.Slot]; !seen || e.Slot != "other" {
			if _, seen := bySlot[e.Slot]; !seen {
				order = append(order, e.Slot)
			}
			bySlot[e.Slot] = e
		}
	}
	var ids []string
	var kept []standing.Evidence
	for _, slot := range order {
		ids = append(ids, bySlot[slot].ID)
		kept = append(kept, bySlot[slot])
	}
	form := map[string]string{"statement": first(values, "statement"), "urgent": first(values, "urgent"), "urgent_reason": first(values, "urgent_reason")}
	restrictionID, orderID := first(values, "restriction_id"), first(values, "order_id")
	rerender := func(status int, fieldErrs map[string]string, top string) {
		d, _, terr := s.appealTarget(r, acc, restrictionID, orderID)
		if terr != nil {
			s.renderStatus(w, r, statusFor(terr), "message", "Appeal", acc, standing.ErrorMessage(terr), message{})
			return
		}
		d.Staged = kept
		for i := range d.Slots {
			if e, ok := bySlot[d.Slots[i].Key]; ok {
				e := e
				d.Slots[i].Staged = &e
			}
			d.Slots[i].Error = fieldErrs["file_"+d.Slots[i].Key]
		}
		s.renderPage(w, r, status, "appeal_new", "Appeal", &page{Account: acc, Form: form, FieldErrors: fieldErrs, Error: top, Data: d})
	}
	if len(fileErrs) > 0 {
		rerender(filesStatus(fileErrs), messages(fileErrs), "A file needs your attention; everything else you entered is kept.")
		return
	}
	a, err := s.d.Appeals.Submit(r.Context(), standing.NewAppeal{AccountID: acc.ID, RestrictionID: restrictionID, OrderID: orderID,
		Statement: form["statement"], Urgent: form["urgent"] == "1", UrgentReason: form["urgent_reason"], EvidenceIDs: ids})
	if err != nil {
		fe, msg := fieldErrors(err)
		if fe == nil {
			fe = map[string]string{}
		}
		rerender(statusFor(err), fe, msg)
		return
	}
	http.Redirect(w, r, "/appeals/"+a.ID+"?notice=appeal_sent", http.StatusSeeOther)
}

type appealView struct {
	Appeal                             standing.Appeal
	Title, StatusWords, Sent, AnswerBy string
	Open                               bool
	ODS                                string
}

func (s *Server) viewAppeal(r *http.Request, a standing.Appeal) appealView {
	v := appealView{Appeal: a, Sent: standing.FormatTime(a.SubmittedAt), AnswerBy: standing.FormatTime(a.DueAt), Open: a.Status.Open(), ODS: appeals.ODSBodiesURL}
	v.Title = a.ReasonCode
	if reason, ok := s.d.Policy().Reason(a.ReasonCode); ok {
		v.Title = reason.Title
	}
	if a.OrderID != "" {
		v.Title = "Order " + a.OrderID + " closed: " + v.Title
	}
	switch a.Status {
	case standing.AppealSubmitted:
		v.StatusWords = "Waiting for a reviewer."
	case standing.AppealInReview:
		v.StatusWords = "A reviewer is looking at it."
	case standing.AppealNeedsInfo:
		v.StatusWords = "The reviewer needs more from you — see the messages below. The deadline pauses until you answer."
	case standing.AppealOverturned:
		v.StatusWords = "Accepted: the decision was reversed."
	case standing.AppealUpheld:
		v.StatusWords = "Reviewed: the decision stays."
	}
	return v
}

// appealPage serves GET /appeals/{id}.
func (s *Server) appealPage(w http.ResponseWriter, r *http.Request) {
	acc := s.requireAccount(w, r)
	if acc == nil {
		return
	}
	a, err := s.d.Appeals.AppealOf(r.Context(), acc.ID, r.PathValue("id"))
	if err != nil {
		s.renderStatus(w, r, statusFor(err), "message", "Appeal", acc, standing.ErrorMessage(err), message{})
		return
	}
	s.render(w, r, "appeal", "Your appeal", &page{Account: acc, Data: s.viewAppeal(r, a)})
}

// appealsPage serves GET /appeals.
func (s *Server) appealsPage(w http.ResponseWriter, r *http.Request) {
	acc := s.requireAccount(w, r)
	if acc == nil {
		return
	}
	list, err := s.d.Appeals.AppealsOf(r.Context(), acc.ID)
	if err != nil {
		s.renderStatus(w, r, statusFor(err), "message", "Appeals", acc, standing.ErrorMessage(err), message{})
		return
	}
	var views []appealView
	for _, a := range list {
		views = append(views, s.viewAppeal(r, a))
	}
	s.render(w, r, "appeals", "Your appeals", &page{Account: acc, Data: map[string]any{"Appeals": views}})
}

// appealMessage serves POST /appeals/{id}/messages: a message and documents from the person.
func (s *Server) appealMessage(w http.ResponseWriter, r *http.Request) {
	acc := s.requireAccount(w, r)
	if acc == nil {
		return
	}
	id := r.PathValue("id")
	a, err := s.d.Appeals.AppealOf(r.Context(), acc.ID, id)
	if err != nil {
		s.renderStatus(w, r, statusFor(err), "message", "Appeal", acc, standing.ErrorMessage(err), message{})
		return
	}
	var ids []string
	values, fileErrs, err := s.multipartForm(w, r, []string{"body"}, func(field, filename string, body io.Reader) error {
		e, err := s.d.Appeals.Upload(r.Context(), acc.ID, "other", field, filename, body)
		if err == nil {
			ids = append(ids, e.ID)
		}
		return err
	})
	if err == nil && len(fileErrs) == 0 {
		err = s.d.Appeals.Reply(r.Context(), acc.ID, id, first(values, "body"), ids)
	}
	if err != nil || len(fileErrs) > 0 {
		fe, msg, status := messages(fileErrs), "", filesStatus(fileErrs)
		if err != nil {
			fe, msg = fieldErrors(err)
			status = statusFor(err)
		}
		s.renderPage(w, r, status, "appeal", "Your appeal", &page{Account: acc, FieldErrors: fe, Error: msg,
			Form: map[string]string{"body": first(values, "body")}, Data: s.viewAppeal(r, a)})
		return
	}
	http.Redirect(w, r, "/appeals/"+id+"?notice=message_sent", http.StatusSeeOther)
}

// appealEvidence serves GET /appeals/{id}/evidence/{eid}: the person's own document.
func (s *Server) appealEvidence(w http.ResponseWriter, r *http.Request) {
	acc := s.requireAccount(w, r)
	if acc == nil {
		return
	}
	e, rc, err := s.d.Appeals.OpenEvidence(r.Context(), acc.ID, r.PathValue("eid"))
	if err != nil || e.AppealID != r.PathValue("id") {
		if rc != nil {
			rc.Close()
		}
		http.NotFound(w, r)
		return
	}
	defer rc.Close()
	serveEvidence(w, e, rc)
}

func serveEvidence(w http.ResponseWriter, e standing.Evidence, rc io.Reader) {
	h := w.Header()
	h.Set("Content-Type", e.ContentType)
	h.Set("Content-Length", strconv.FormatInt(e.Size, 10))
	h.Set("Content-Disposition", `inline; filename="`+strings.ReplaceAll(e.Filename, `"`, "")+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'self'; sandbox")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	io.Copy(w, rc)
}
