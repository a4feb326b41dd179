package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"standing"
	"standing/evidence"
	"standing/ipintel"
	"standing/rules"
)

// eventRequest is one event as the marketplace posts it.
type eventRequest struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	AccountID  string          `json:"account_id"`
	Time       time.Time       `json:"time,omitzero"`
	IP         string          `json:"ip,omitempty"`
	DeviceID   string          `json:"device_id,omitempty"`
	Attributes json.RawMessage `json:"attributes,omitempty"`
}

// eventsEnvelope is the body of POST /v1/events: one event, or {"events": [...]}. Batch
// items stay raw so that each is decoded, and fails, on its own.
type eventsEnvelope struct {
	eventRequest
	Events []json.RawMessage `json:"events"`
}

// eventIntake checks events and adds what Standing knows about them before the store
// decides: IP intelligence, hashed identity details, the order and recipient they name.
type eventIntake struct {
	ip     func() *ipintel.DB
	hasher *rules.IdentityHasher
	clock  standing.Clock
	policy func() *standing.Policy
}

// maxFuture is how far ahead of Standing's clock an event's time may be (clock skew).
const maxFuture = 24 * time.Hour

// accept validates one event and returns what the store decides on. Errors name the field
// with prefix ("events[3].ip").
func (in *eventIntake) accept(req *eventRequest, prefix string, now time.Time) (standing.EventInput, error) {
	fail := func(field, format string, args ...any) error {
		return standing.FieldErrorf(standing.EINVALID, prefix+field, format, args...)
	}
	var e standing.EventInput
	e.ID, e.Type, e.AccountID, e.DeviceID = strings.TrimSpace(req.ID), strings.TrimSpace(req.Type), strings.TrimSpace(req.AccountID), strings.TrimSpace(req.DeviceID)
	if e.ID == "" {
		e.ID = standing.NewID("evt", now)
	} else if len(e.ID) > standing.MaxEventIDLen || strings.IndexFunc(e.ID, func(c rune) bool { return c <= ' ' || c > '~' }) >= 0 {
		return e, fail("id", "an event id is 1 to %d printable ASCII characters without spaces", standing.MaxEventIDLen)
	}
	if e.Type == "" {
		return e, fail("type", "type is required: signup, login_succeeded, payment_declined, order_placed … or a custom type")
	}
	if len(e.Type) > standing.MaxEventTypeLen || strings.Trim(e.Type, "abcdefghijklmnopqrstuvwxyz0123456789_.-") != "" {
		return e, fail("type", "an event type is 1 to %d lower-case letters, digits, '_', '.' and '-', not %q", standing.MaxEventTypeLen, cut(e.Type))
	}
	if e.AccountID == "" {
		return e, fail("account_id", "account_id is required")
	}
	if len(e.AccountID) > 100 {
		return e, fail("account_id", "account_id is longer than 100 characters")
	}
	e.Time = req.Time.UTC()
	if e.Time.IsZero() {
		e.Time = now
	}
	if e.Time.After(now.Add(maxFuture)) {
		return e, fail("time", "the event's time %s is more than a day ahead of Standing's clock (%s)", e.Time.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	if ret := in.policy().Risk.EventRetention.D(); ret > 0 && e.Time.Before(now.Add(-ret)) {
		return e, fail("time", "the event's time %s is older than the event retention (%s) and would be deleted at once", e.Time.Format(time.RFC3339), in.policy().Risk.EventRetention)
	}
	if len(e.DeviceID) > standing.MaxDeviceIDLen {
		return e, fail("device_id", "device_id is longer than %d characters", standing.MaxDeviceIDLen)
	}
	if req.IP != "" {
		ip, err := ipintel.ParseIP(req.IP)
		if err != nil {
			return e, fail("ip", "%s; send the IPv4 or IPv6 address the person used, or leave ip out", standing.ErrorMessage(err))
		}
		e.IP = ip.String()
		in.ip().Enrich(&e, ip)
	}
	if e.DeviceID != "" {
		if a, ok := in.hasher.Device(e.DeviceID); ok {
			e.Identity = append(e.Identity, a)
		}
	}
	if err := in.attributes(&e, req.Attributes, prefix); err != nil {
		return e, err
	}
	return e, nil
}

// attributes checks an event's attributes and takes the identity details, order and
// recipient out of them. A value anywhere in them that shows a full card number refuses
// the event: card numbers are never stored.
func (in *eventIntake) attributes(e *standing.EventInput, raw json.RawMessage, prefix string) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if len(raw) > standing.MaxAttributesSize {
		return standing.FieldErrorf(standing.EINVALID, prefix+"attributes", "attributes are larger than %d bytes", standing.MaxAttributesSize)
	}
	if raw[0] != '{' {
		return standing.FieldErrorf(standing.EINVALID, prefix+"attributes", "attributes must be a JSON object")
	}
	m, err := rules.DecodeAttributes(raw)
	if err != nil {
		return standing.FieldErrorf(standing.EINVALID, prefix+"attributes", "attributes must be a JSON object")
	}
	if field, ok := findCardNumber(m, "attributes"); ok {
		return standing.FieldErrorf(standing.EINVALID, prefix+field, "%s holds what looks like a full payment card number; send the payment provider's card fingerprint (card_fingerprint) instead — card numbers are never accepted or stored", field)
	}
	str := func(key string) (string, bool, error) {
		v, ok := m[key]
		if !ok || v == nil {
			return "", false, nil
		}
		s, isString := v.(string)
		if !isString {
			return "", false, standing.FieldErrorf(standing.EINVALID, prefix+"attributes."+key, "attributes.%s must be a string", key)
		}
		return s, strings.TrimSpace(s) != "", nil
	}
	if s, ok, err := str("card_fingerprint"); err != nil {
		return err
	} else if ok {
		a, err := in.hasher.CardFingerprint(prefix+"attributes.card_fingerprint", s)
		if err != nil {
			return err
		}
		e.Identity = append(e.Identity, a)
	}
	if s, ok, err := str("phone"); err != nil {
		return err
	} else if ok {
		a, err := in.hasher.Phone(prefix+"attributes.phone", s, "")
		if err != nil {
			return err
		}
		e.Identity = append(e.Identity, a)
	}
	if s, ok, err := str("name"); err != nil {
		return err
	} else if ok {
		if a, ok := in.hasher.Name(s); ok {
			e.Identity = append(e.Identity, a)
		}
	}
	if v, ok := m["shipping_address"]; ok && v != nil {
		b, _ := json.Marshal(v)
		var addr standing.Address
		d := json.NewDecoder(bytes.NewReader(b))
		d.DisallowUnknownFields()
		if err := d.Decode(&addr); err != nil {
			return standing.FieldErrorf(standing.EINVALID, prefix+"attributes.shipping_address", "shipping_address is an object with line1, line2, city, postal_code, region and country")
		}
		a, err := in.hasher.Address(prefix+"attributes.shipping_address", addr)
		if err != nil {
			return err
		}
		e.Identity = append(e.Identity, a)
	}
	if s, _, err := str("order_id"); err != nil {
		return err
	} else {
		e.OrderRef = strings.TrimSpace(s)
	}
	if s, _, err := str("recipient_name"); err != nil {
		return err
	} else {
		e.RecipientName = s
	}
	e.Attributes = raw
	e.Values = m
	return nil
}

// findCardNumber looks through decoded JSON for a string or number that shows a full card
// number and returns its path.
func findCardNumber(v any, path string) (string, bool) {
	switch x := v.(type) {
	case string:
		if rules.LooksLikeCardNumber(strings.TrimSpace(x)) {
			return path, true
		}
		if _, ok := evidence.ContainsCardNumber(x); ok {
			return path, true
		}
	case int64:
		if rules.LooksLikeCardNumber(strconv.FormatInt(x, 10)) {
			return path, true
		}
	case float64:
		if rules.LooksLikeCardNumber(strconv.FormatFloat(x, 'f', -1, 64)) {
			return path, true
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if p, ok := findCardNumber(x[k], path+"."+k); ok {
				return p, true
			}
		}
	case []any:
		for i, e := range x {
			if p, ok := findCardNumber(e, fmt.Sprintf("%s[%d]", path, i)); ok {
				return p, true
			}
		}
	}
	return "", false
}

func cut(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// eventResult is one event's entry in the answer to a batch.
type eventResult struct {
	Index    int                     `json:"index"`
	Status   int                     `json:"status"`
	EventID  string                  `json:"event_id,omitempty"`
	Decision *standing.EventDecision `json:"decision,omitempty"`
	Error    *Problem                `json:"error,omitempty"`
}

// decodeItem decodes one batch item strictly: an event object, not null.
func decodeItem(raw json.RawMessage, v any) error {
	if string(bytes.TrimSpace(raw)) == "null" {
		return errNullItem
	}
	return decodeBytes(raw, v, maxBatchBody, "item")
}

// errNullItem is the error of a batch item that is null.
var errNullItem = standing.Errorf(standing.EMALFORMED, "the item is null; send an event object")

// handleEvents serves POST /v1/events: one event, or {"events": [...]} with up to 1,000.
// Each event gets Standing's decision: the score, the rules that fired with the values
// that made them fire, what shadow rules would have done, and the actions taken. In a
// batch each event stands alone: a malformed one or one for an unknown account gets its
// own 4xx entry and the others are decided.
func handleEvents(intake *eventIntake, p EventProcessor) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		body, err := readBody(w, r, maxBatchBody)
		if err != nil {
			return err
		}
		// A batch whose items all decode is read in one pass; otherwise each item is
		// decoded on its own, so that each fails with its own error (decodeItem).
		var env eventsEnvelope
		var items []*eventRequest
		var whole struct {
			eventRequest
			Events []*eventRequest `json:"events"`
		}
		if decodeBytes(body, &whole, maxBatchBody, "body") == nil {
			env.eventRequest, items = whole.eventRequest, whole.Events
			if items != nil {
				env.Events = make([]json.RawMessage, len(items))
			}
		} else if err := decodeBytes(body, &env, maxBatchBody, "body"); err != nil {
			return err
		}
		now := intake.clock.Now().Truncate(time.Microsecond)
		if env.Events == nil {
			e, err := intake.accept(&env.eventRequest, "", now)
			if err != nil {
				return err
			}
			res, err := p.ProcessEvents(r.Context(), []standing.EventInput{e})
			if err != nil {
				return err
			}
			if res[0].Err != nil {
				return res[0].Err
			}
			return writeSized(w, http.StatusOK, res[0].Decision)
		}
		if env.ID != "" || env.Type != "" || env.AccountID != "" || env.IP != "" || env.DeviceID != "" || env.Attributes != nil || !env.Time.IsZero() {
			return standing.Errorf(standing.EINVALID, `send either one event or {"events": [...]}, not both`)
		}
		if len(env.Events) == 0 || len(env.Events) > standing.MaxBatch {
			return standing.FieldErrorf(standing.EINVALID, "events", "a batch holds 1 to %d events, not %d", standing.MaxBatch, len(env.Events))
		}
		results := make([]eventResult, len(env.Events))
		inputs := make([]standing.EventInput, 0, len(env.Events))
		index := make([]int, 0, len(env.Events))
		fail := func(i int, err error) {
			pr := ProblemFor(err, r.URL.Path)
			results[i].Status, results[i].Error = pr.Status, &pr
		}
		for i, raw := range env.Events {
			results[i].Index = i
			prefix := fmt.Sprintf("events[%d].", i)
			var req eventRequest
			switch {
			case items != nil && items[i] != nil:
				req = *items[i]
			case items != nil:
				fail(i, prefixField(errNullItem, prefix))
				continue
			default:
				if err := decodeItem(raw, &req); err != nil {
					fail(i, prefixField(err, prefix))
					continue
				}
			}
			results[i].EventID = strings.TrimSpace(req.ID)
			e, err := intake.accept(&req, prefix, now)
			if err != nil {
				fail(i, err)
				continue
			}
			results[i].EventID = e.ID
			inputs = append(inputs, e)
			index = append(index, i)
		}
		if len(inputs) > 0 {
			res, err := p.ProcessEvents(r.Context(), inputs)
			if err != nil {
				return err
			}
			for k, er := range res {
				i := index[k]
				if er.Err != nil {
					if f := standing.ErrorField(er.Err); f != "" {
						er.Err = standing.FieldErrorf(standing.ErrorCode(er.Err), fmt.Sprintf("events[%d].%s", i, f), "%s", standing.ErrorMessage(er.Err))
					}
					fail(i, er.Err)
					continue
				}
				results[i].Status, results[i].Decision = http.StatusOK, er.Decision
			}
		}
		accepted, duplicates := 0, 0
		for _, res := range results {
			if res.Status == http.StatusOK {
				accepted++
				if res.Decision.Duplicate {
					duplicates++
				}
			}
		}
		return writeSized(w, http.StatusOK, map[string]any{"accepted": accepted, "duplicates": duplicates,
			"failed": len(results) - accepted, "results": results})
	}
}

// writeSized writes v as JSON with its Content-Length, so a client reads an answer of any
// size without chunked decoding (the load clients of the benchmarks rely on it).
func writeSized(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, err = w.Write(b)
	return err
}

// handleGetEvent serves GET /v1/events/{id}: a stored event and the decision taken on it.
func handleGetEvent(s EventReader) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		e, d, err := s.Event(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, map[string]any{"event": e, "decision": d})
	}
}
