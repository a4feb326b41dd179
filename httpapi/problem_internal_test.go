package httpapi

import (
	"errors"
	"net/http"
	"testing"

	"standing"
)

// TestProblemStatusFromTheOneTable: every code has a title, and its status is the one
// standing.HTTPStatus gives; a code nobody knows is a 500 that shows nothing of it.
func TestProblemStatusFromTheOneTable(t *testing.T) {
	codes := []string{standing.EINVALID, standing.ENOTFOUND, standing.ECONFLICT, standing.EGONE, standing.EFORBIDDEN,
		standing.EUNAUTHORIZED, standing.ETOOLARGE, standing.ERATELIMITED, standing.EMALFORMED, standing.EMEDIATYPE, standing.EMETHOD, standing.EINTERNAL}
	for _, code := range codes {
		p := ProblemFor(standing.Errorf(code, "m"), "/x")
		if p.Code != code || p.Status != standing.HTTPStatus(code) || p.Title == "" {
			t.Errorf("ProblemFor(%s) = %+v, want status %d and a title", code, p, standing.HTTPStatus(code))
		}
	}
	p := ProblemFor(standing.Errorf("made_up", "secret detail"), "/x")
	if p.Code != standing.EINTERNAL || p.Status != http.StatusInternalServerError || p.Detail == "secret detail" {
		t.Errorf("unknown code: %+v", p)
	}
	if p := ProblemFor(errors.New("driver said x"), "/x"); p.Status != http.StatusInternalServerError || p.Detail == "driver said x" {
		t.Errorf("plain error: %+v", p)
	}
}

func TestPrefixField(t *testing.T) {
	for _, c := range []struct {
		err    error
		prefix string
		want   string
	}{
		{standing.FieldErrorf(standing.EINVALID, "ip", "bad"), "events[3].", "events[3].ip"},
		{standing.Errorf(standing.EMALFORMED, "bad"), "events[3].", "events[3]"},
	} {
		got := prefixField(c.err, c.prefix)
		if standing.ErrorField(got) != c.want || standing.ErrorCode(got) != standing.ErrorCode(c.err) || standing.ErrorMessage(got) != "bad" {
			t.Errorf("prefixField(%v, %q) = %v, want field %q", c.err, c.prefix, got, c.want)
		}
	}
}
