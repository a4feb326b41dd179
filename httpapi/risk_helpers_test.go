package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"standing/app/apptest"
	"standing/config"
	"standing/ipintel"
	"standing/ipintel/ipinteltest"
	"standing/standingtest"
	"standing/webhook"
)

// The addresses of the test IP intelligence: a VPN exit in the .mmdb file, a Tor exit in a
// CIDR list, and plain addresses.
const (
	vpnIP   = "198.51.100.66"
	torIP   = "203.0.113.9"
	plainIP = "192.0.2.10"
)

// watched is on the recipient watch list of the test policy.
const watched = "Mickey Mouse"

// riskEnv is a Standing with IP intelligence fixtures, a recipient watch list and a webhook
// receiver that verifies every delivery's signature.
type riskEnv struct {
	*apptest.Env
	t    *testing.T
	hook *receiver
	n    int // counter for unique emails and event ids
}

// newRiskEnv starts Standing on SQLite or PostgreSQL with the risk fixtures.
func newRiskEnv(t *testing.T, postgres bool) *riskEnv {
	t.Helper()
	dir := t.TempDir()
	mmdb := filepath.Join(dir, "anonymous.mmdb")
	ipinteltest.WriteAnonymousIP(t, mmdb, map[string]ipintel.Flags{vpnIP: {VPN: true}})
	tor := filepath.Join(dir, "tor.txt")
	ipinteltest.WriteList(t, tor, torIP)
	policy := filepath.Join(dir, "policy.yaml")
	doc := fmt.Sprintf("risk:\n  anonymizer_databases: [%q]\n  anonymizer_cidr_files: [%q]\n  recipient_watch_list: [%q]\n", mmdb, "tor:"+tor, watched)
	if err := os.WriteFile(policy, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	e := apptest.New(t, apptest.Options{Postgres: postgres, Configure: func(c *config.Config) { c.PolicyFile = policy }})
	re := &riskEnv{Env: e, t: t}
	re.hook = newReceiver(t)
	ep := e.MustAPI("POST", "/v1/webhooks", map[string]any{"url": re.hook.srv.URL + "/hooks"}, http.StatusCreated)
	re.hook.setSecrets(ep["secret"].(string))
	return re
}

// riskBackends runs fn on SQLite and on PostgreSQL.
func riskBackends(t *testing.T, fn func(t *testing.T, e *riskEnv)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newRiskEnv(t, false)) })
	t.Run("postgres", func(t *testing.T) {
		standingtest.PostgresURL(t) // skip with the reason when PostgreSQL is not there
		fn(t, newRiskEnv(t, true))
	})
}

// account creates an active account and returns its id and email.
func (e *riskEnv) account(role string) (string, string) {
	e.n++
	email := fmt.Sprintf("%s%d@example.com", role, e.n)
	return e.CreateAccount(role, email), email
}

// order reports an order of buyer from seller and returns its id.
func (e *riskEnv) order(buyer, seller string, extra map[string]any) string {
	e.t.Helper()
	body := map[string]any{"buyer_id": buyer, "seller_id": seller, "amount": 2599, "currency": "EUR", "recipient_name": "Ana Lopez"}
	for k, v := range extra {
		body[k] = v
	}
	return e.MustAPI("POST", "/v1/orders", body, http.StatusCreated)["id"].(string)
}

// event builds an event of the account at the clock's now minus ago.
func (e *riskEnv) event(typ, account string, ago time.Duration, fields map[string]any) map[string]any {
	e.n++
	ev := map[string]any{"id": fmt.Sprintf("evt-%d", e.n), "type": typ, "account_id": account,
		"time": e.Clock.Now().Add(-ago).Format(time.RFC3339Nano)}
	for k, v := range fields {
		ev[k] = v
	}
	return ev
}

// post posts one event and returns the decision.
func (e *riskEnv) post(ev map[string]any) map[string]any {
	e.t.Helper()
	return e.MustAPI("POST", "/v1/events", ev, http.StatusOK)
}

// postAll posts the events one at a time and returns the last decision.
func (e *riskEnv) postAll(events []map[string]any) map[string]any {
	e.t.Helper()
	var last map[string]any
	for _, ev := range events {
		last = e.post(ev)
	}
	return last
}

// ruleIDs returns the ids of the rules in a decision's list (fired or shadow).
func ruleIDs(dec map[string]any, list string) []string {
	var ids []string
	items, _ := dec[list].([]any)
	for _, f := range items {
		ids = append(ids, f.(map[string]any)["rule_id"].(string))
	}
	return ids
}

// firedAnywhere reports whether any of the decisions fired the rule.
func firedAnywhere(decs []map[string]any, rule string) bool {
	for _, d := range decs {
		if slices.Contains(ruleIDs(d, "fired"), rule) {
			return true
		}
	}
	return false
}

// restrictions returns the account's active restrictions by reason code.
func (e *riskEnv) restrictions(account string) map[string]map[string]any {
	e.t.Helper()
	out := map[string]map[string]any{}
	list := e.MustAPI("GET", "/v1/accounts/"+account+"/restrictions", nil, http.StatusOK)["restrictions"].([]any)
	for _, r := range list {
		m := r.(map[string]any)
		out[m["reason_code"].(string)] = m
	}
	return out
}

// allowed asks the check whether the account may use the capability.
func (e *riskEnv) allowed(account, capability string) bool {
	e.t.Helper()
	return e.MustAPI("POST", "/v1/check", map[string]any{"account_id": account, "capability": capability}, http.StatusOK)["allowed"] == true
}

// orderStatus returns an order's status and the reason shown to the buyer.
func (e *riskEnv) orderStatus(id string) (string, string) {
	e.t.Helper()
	o := e.MustAPI("GET", "/v1/orders/"+id, nil, http.StatusOK)
	reason, _ := o["closed_reason"].(string)
	return o["status"].(string), reason
}

// mails returns the subjects of the restriction mails sent to the address.
func (e *riskEnv) mails(to string) []string {
	e.t.Helper()
	ms, err := e.App.Store.Mails(context.Background(), to, 50)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		if m.Kind == "restriction" {
			out = append(out, m.Subject)
		}
	}
	return out
}

// delivered is one webhook the receiver verified.
type delivered struct {
	ID      string
	Type    string
	Data    map[string]any
	Headers http.Header
	Body    []byte
}

// receiver is the marketplace's webhook endpoint in tests: it verifies every delivery's
// signature with webhook.Verify, against its wall clock and the secrets it was given (any one may match, as
// during a rotation) and records the verified ones. status, when set, answers instead of
// 204 (for retry and 410 tests).
type receiver struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	secrets  []string
	got      []delivered
	rejected int
	status   []int // answers to give, first to last; then 204
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{t: t}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) setSecrets(s ...string) {
	rc.mu.Lock()
	rc.secrets = s
	rc.mu.Unlock()
}

func (rc *receiver) answer(statuses ...int) {
	rc.mu.Lock()
	rc.status = append(rc.status, statuses...)
	rc.mu.Unlock()
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.status) > 0 {
		st := rc.status[0]
		rc.status = rc.status[1:]
		w.WriteHeader(st)
		return
	}
	ok := false
	for _, s := range rc.secrets {
		if webhook.Verify(s, r.Header, body, time.Now(), 0) == nil {
			ok = true
		}
	}
	if !ok {
		rc.rejected++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var msg struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		rc.t.Errorf("webhook body is not JSON: %s", body)
	}
	rc.got = append(rc.got, delivered{ID: r.Header.Get(webhook.HeaderID), Type: msg.Type, Data: msg.Data, Headers: r.Header.Clone(), Body: body})
	w.WriteHeader(http.StatusNoContent)
}

// find returns the verified deliveries of a type whose data field key has value.
func (rc *receiver) find(typ, key, value string) []delivered {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []delivered
	for _, d := range rc.got {
		if d.Type == typ && d.Data[key] == value {
			out = append(out, d)
		}
	}
	return out
}

func (rc *receiver) secret() string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.secrets[0]
}

func (rc *receiver) rejections() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.rejected
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got)
}

// wantNoPersonalData fails when a webhook body holds any of the values.
func wantNoPersonalData(t *testing.T, d delivered, values ...string) {
	t.Helper()
	for _, v := range values {
		if v != "" && strings.Contains(strings.ToLower(string(d.Body)), strings.ToLower(v)) {
			t.Errorf("webhook %s carries personal data %q: %s", d.Type, v, d.Body)
		}
	}
}
