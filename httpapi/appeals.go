package httpapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"standing"
	"standing/appeals"
	"standing/dsa"
	"standing/sqlstore"
)

// AppealDeps are what the appeals API needs.
type AppealDeps struct {
	Appeals    *appeals.Service
	Statements interface {
		StatementSources(ctx context.Context, since time.Time, after string, limit int) ([]sqlstore.StatementSource, error)
	}
	Policy func() *standing.Policy
	Log    *slog.Logger // where skipped statements are reported; slog.Default if nil
}

// appealFields are the text fields of POST /v1/appeals; files come in file_… fields.
var appealFields = []string{"account_id", "restriction_id", "order_id", "statement", "urgent", "urgent_reason"}

// handleSubmitAppeal serves POST /v1/appeals: multipart/form-data with account_id,
// restriction_id or order_id, statement, urgent, urgent_reason, and files in fields named
// file_<document key> (file_card_photo, file_id_document, file_bank_statement, file_other).
// account_id comes before the files and is checked when it arrives, so no file of a form
// for an unknown account is stored. Text fields are bounded one by one and together, and
// at most standing.MaxEvidence files are taken. Files are checked one by one; the first
// bad one is refused with its field named, and nothing is filed.
func handleSubmitAppeal(svc *appeals.Service, policy func() *standing.Policy) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		limit := appeals.MaxBody(policy())
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		mr, err := r.MultipartReader()
		if err != nil {
			return standing.Errorf(standing.EMALFORMED, "send the appeal as multipart/form-data: %v", err)
		}
		values := map[string]string{}
		var ids []string
		var account string
		parts, text := 0, 0
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return multipartError(err, limit)
			}
			if parts++; parts > appeals.MaxParts {
				return standing.Errorf(standing.ETOOLARGE, "the appeal has more than %d parts", appeals.MaxParts)
			}
			name := part.FormName()
			if part.FileName() == "" {
				if !slices.Contains(appealFields, name) {
					return standing.FieldErrorf(standing.EINVALID, cut(name), "unknown field %q: the text fields are %s, and files go in fields named file_<document key> with a file name",
						cut(name), strings.Join(appealFields, ", "))
				}
				b, err := io.ReadAll(io.LimitReader(part, appeals.MaxTextField+1))
				if err != nil {
					return multipartError(err, limit)
				}
				if len(b) > appeals.MaxTextField {
					return standing.FieldErrorf(standing.ETOOLARGE, name, "%s is longer than %s", name, standing.ByteSize(appeals.MaxTextField))
				}
				if text += len(b); text > appeals.MaxText {
					return standing.Errorf(standing.ETOOLARGE, "the text fields are longer than %s altogether", standing.ByteSize(appeals.MaxText))
				}
				if name == "account_id" {
					if account != "" {
						return standing.FieldErrorf(standing.EINVALID, name, "send account_id once")
					}
					if _, err := svc.Account(r.Context(), string(b)); err != nil {
						return err
					}
					account = string(b)
				}
				values[name] = string(b)
				continue
			}
			if !strings.HasPrefix(name, "file_") {
				return standing.FieldErrorf(standing.EINVALID, cut(name), "file fields are named file_<document key>, like file_card_photo")
			}
			if account == "" {
				return standing.FieldErrorf(standing.EINVALID, "account_id", "send account_id before the files")
			}
			if len(ids) == standing.MaxEvidence {
				return standing.FieldErrorf(standing.EINVALID, name, "attach at most %d documents to an appeal", standing.MaxEvidence)
			}
			e, err := svc.Upload(r.Context(), account, strings.TrimPrefix(name, "file_"), name, part.FileName(), part)
			if err != nil {
				return err
			}
			ids = append(ids, e.ID)
		}
		if account == "" {
			return standing.FieldErrorf(standing.EINVALID, "account_id", "account_id is required")
		}
		var urgent bool
		switch values["urgent"] {
		case "", "false", "0":
		case "true", "1":
			urgent = true
		default:
			return standing.FieldErrorf(standing.EINVALID, "urgent", "urgent must be true or false, not %q", shortText(values["urgent"]))
		}
		a, err := svc.Submit(r.Context(), standing.NewAppeal{AccountID: account, RestrictionID: values["restriction_id"],
			OrderID: values["order_id"], Statement: values["statement"], Urgent: urgent,
			UrgentReason: values["urgent_reason"], EvidenceIDs: ids})
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusCreated, a)
	}
}

// shortText cuts s to at most 40 bytes, on a rune boundary, to quote it in an error.
func shortText(s string) string {
	if len(s) <= 40 {
		return s
	}
	n := 40
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// multipartError is the error of a multipart body that could not be read: too large, or
// broken.
func multipartError(err error, limit int64) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return standing.Errorf(standing.ETOOLARGE, "the appeal is larger than %s altogether", standing.ByteSize(limit))
	}
	return standing.Errorf(standing.EMALFORMED, "the multipart body could not be read: %v", err)
}

// handleGetAppeal serves GET /v1/appeals/{id}.
func handleGetAppeal(svc *appeals.Service) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		a, err := svc.Appeal(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, a)
	}
}

// handleDecideAppeal serves POST /v1/appeals/{id}/decision {decision, note, reviewer_id}.
// A person always decides, and the key says who: it must be bound to an active reviewer
// (standing apikey create --reviewer), whose decision it records. reviewer_id may be
// left out; if given it must be the key's reviewer, so one key cannot cast the two votes
// that overturning fraud needs.
func handleDecideAppeal(svc *appeals.Service) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		key := callerKey(r)
		if key == nil || key.ReviewerID == "" {
			name := ""
			if key != nil {
				name = key.Name
			}
			return standing.Errorf(standing.EFORBIDDEN, "the API key %q is not bound to a reviewer, and a person decides every appeal: "+
				"create a key for the reviewer with standing apikey create --scopes %s --reviewer STAFF_ID", name, standing.ScopeAppealsDecide)
		}
		var in struct {
			ReviewerID string `json:"reviewer_id"`
			Decision   string `json:"decision"`
			Note       string `json:"note"`
		}
		if err := decode(w, r, &in, maxBody); err != nil {
			return err
		}
		if in.ReviewerID != "" && in.ReviewerID != key.ReviewerID {
			return standing.FieldErrorf(standing.EFORBIDDEN, "reviewer_id", "the API key %q decides as reviewer %q only, not %q", key.Name, key.ReviewerID, in.ReviewerID)
		}
		u, err := svc.Reviewer(r.Context(), key.ReviewerID)
		if err != nil {
			return err
		}
		res, err := svc.Decide(r.Context(), u, r.PathValue("id"), in.Decision, in.Note)
		if err != nil {
			return err
		}
		status := http.StatusOK
		if res.Pending {
			status = http.StatusAccepted
		}
		return writeJSON(w, status, map[string]any{"appeal": res.Appeal, "waiting_for_second_reviewer": res.Pending})
	}
}

// handleStatements serves GET /v1/statements?since=YYYY-MM-DD[&after=cursor]: statements of
// reasons for the restrictions made since, in the EU Transparency Database's submission
// format (schema v2), at most 100 per answer — the body can be POSTed as it is. The next
// page is in the Link header (rel="next"). A restriction no valid statement can be made
// of (its reason left the catalog, its account's registration date is out of the
// schema's range) costs that statement, not the export: it is left out, named in the
// Standing-Skipped header and logged with the fields at fault.
func handleStatements(src interface {
	StatementSources(ctx context.Context, since time.Time, after string, limit int) ([]sqlstore.StatementSource, error)
}, policy func() *standing.Policy, log *slog.Logger) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		since, err := parseSince(q.Get("since"))
		if err != nil {
			return err
		}
		p := policy()
		var page dsa.Page
		next := q.Get("after") // the cursor of the next answer; "" when the export is done
	fill:
		for len(page.Statements) < dsa.MaxBatch {
			rows, err := src.StatementSources(r.Context(), since, next, dsa.MaxBatch)
			if err != nil {
				return err
			}
			for _, row := range rows {
				next = row.Restriction.ID
				page.Add(p, dsa.Row{Restriction: row.Restriction, AccountCreated: row.AccountCreated, Role: row.Role}, dsa.Options{})
				if len(page.Statements) == dsa.MaxBatch {
					break fill // next is the last restriction this answer looked at
				}
			}
			if len(rows) < dsa.MaxBatch {
				next = ""
				break
			}
		}
		if len(page.Skipped) > 0 {
			ids := make([]string, len(page.Skipped))
			for i, sk := range page.Skipped {
				ids[i] = sk.RestrictionID
				log.Warn("statement of reasons skipped", "restriction_id", sk.RestrictionID, "reason_code", sk.ReasonCode,
					"fields", sk.Fields, "problem", sk.Problem)
			}
			w.Header().Set("Standing-Skipped", strings.Join(ids, ", "))
		}
		if next != "" {
			w.Header().Set("Link", `</v1/statements?since=`+url.QueryEscape(since.Format("2006-01-02"))+`&after=`+url.QueryEscape(next)+`>; rel="next"`)
		}
		return writeJSON(w, http.StatusOK, page.Submission())
	}
}

func parseSince(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, standing.FieldErrorf(standing.EINVALID, "since", "since is required, as a date (2026-11-01) or an RFC 3339 time")
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, standing.FieldErrorf(standing.EINVALID, "since", "since must be a date (2026-11-01) or an RFC 3339 time, not %q", s)
}
