package web

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"standing"
)

type devMailView struct {
	ID      string   `json:"id"`
	To      string   `json:"to"`
	Kind    string   `json:"kind"`
	Subject string   `json:"subject"`
	Text    string   `json:"text"`
	State   string   `json:"state"`
	Created string   `json:"created_at"`
	Links   []string `json:"links"`
	Code    string   `json:"code,omitempty"`
}

var (
	linkRE = regexp.MustCompile(`https?://[^\s<>"]+`)
	codeRE = regexp.MustCompile(`(?m)^\s*(\d{6})\s*$`)
)

// devMail serves GET /dev/mail (dev mode only): the mail this server kept, newest first;
// ?to= filters by address, ?format=json (or Accept: application/json) gives JSON with the
// links and code already pulled out, so black-box tests can follow them.
func (s *Server) devMail(w http.ResponseWriter, r *http.Request) {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	mails, err := s.d.Mails.Mails(r.Context(), strings.ToLower(strings.TrimSpace(r.URL.Query().Get("to"))), limit)
	if err != nil {
		http.Error(w, standing.ErrorMessage(err), http.StatusInternalServerError)
		return
	}
	views := []devMailView{}
	for _, m := range mails {
		v := devMailView{ID: m.ID, To: m.To, Kind: m.Kind, Subject: m.Subject, Text: m.Text, State: m.State,
			Created: m.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"), Links: linkRE.FindAllString(m.Text, -1)}
		if v.Links == nil {
			v.Links = []string{}
		}
		if c := codeRE.FindStringSubmatch(m.Text); c != nil {
			v.Code = c[1]
		}
		views = append(views, v)
	}
	if r.URL.Query().Get("format") == "json" || strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"mails": views})
		return
	}
	s.render(w, r, "devmail", "Captured mail", &page{Data: map[string]any{"Mails": views}})
}
