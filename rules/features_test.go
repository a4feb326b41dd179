package rules

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"strings"
	"testing"
	"time"

	"standing"
)

// t0 is the "now" of the tests; events are placed relative to it, so time moves by
// construction and no test sleeps.
var t0 = time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) time.Time { return t0.Add(-d) }

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

// ev builds an event of type typ at time at; opts set IP, device and country.
func ev(id, typ string, at time.Time, opts ...func(*Event)) Event {
	e := Event{ID: id, Type: typ, AccountID: "acc_1", Time: at}
	for _, o := range opts {
		o(&e)
	}
	return e
}

func fromIP(s string) func(*Event)     { return func(e *Event) { e.IP = ip(s) } }
func fromDevice(d string) func(*Event) { return func(e *Event) { e.DeviceID = d } }
func inCountry(c string) func(*Event)  { return func(e *Event) { e.Country = c } }
func onASN(n uint) func(*Event)        { return func(e *Event) { e.ASN = n } }

func applyAll(events []Event) *FeatureState {
	var s FeatureState
	for _, e := range events {
		s.Apply(e)
	}
	return &s
}

func TestSnapshotOfEmptyStateIsAllZero(t *testing.T) {
	var s FeatureState
	got := s.Snapshot(t0)
	for name, v := range got {
		if v != featureDefaults[name] {
			t.Errorf("%s = %v, want %v", name, v, featureDefaults[name])
		}
	}
	for _, f := range featureCatalog {
		if _, ok := got[f.Name]; !ok && f.Source == featureSourceEvents {
			t.Errorf("Snapshot lacks %s", f.Name)
		}
	}
}

func TestFeaturesOverTime(t *testing.T) {
	h := time.Hour
	day := 24 * h
	tests := []struct {
		name   string
		events []Event
		want   map[string]any
	}{
		{
			name:   "first event is not new",
			events: []Event{ev("1", EventSignup, ago(h), fromIP("10.0.0.1"), fromDevice("d1"), inCountry("DE"), onASN(1))},
			want: map[string]any{
				"new_ip": false, "new_device": false, "country_changed": false, "asn_changed": false,
				"ips_24h": 1, "devices_24h": 1, "countries_30d": 1, "ip_changes_24h": 0, "events_total": 1,
			},
		},
		{
			name: "second IP and device are new",
			events: []Event{
				ev("1", EventSignup, ago(2*h), fromIP("10.0.0.1"), fromDevice("d1")),
				ev("2", EventLoginSucceeded, ago(h), fromIP("10.0.0.2"), fromDevice("d2")),
			},
			want: map[string]any{"new_ip": true, "new_device": true, "ips_24h": 2, "devices_24h": 2, "ip_changes_24h": 1},
		},
		{
			name: "a returning IP and device are not new",
			events: []Event{
				ev("1", EventSignup, ago(3*h), fromIP("10.0.0.1"), fromDevice("d1")),
				ev("2", EventLoginSucceeded, ago(2*h), fromIP("10.0.0.2"), fromDevice("d2")),
				ev("3", EventLoginSucceeded, ago(h), fromIP("10.0.0.1"), fromDevice("d1")),
			},
			want: map[string]any{"new_ip": false, "new_device": false, "ips_24h": 2, "ip_changes_24h": 2},
		},
		{
			name: "an event without IP leaves new_ip false",
			events: []Event{
				ev("1", EventSignup, ago(3*h), fromIP("10.0.0.1")),
				ev("2", EventShipmentLate, ago(h)),
			},
			want: map[string]any{"new_ip": false, "new_device": false, "ips_24h": 1, "events_total": 2},
		},
		{
			name: "first event with an IP after events without one is not new",
			events: []Event{
				ev("1", EventSignup, ago(3*h)),
				ev("2", EventLoginSucceeded, ago(h), fromIP("10.0.0.9"), fromDevice("d9")),
			},
			want: map[string]any{"new_ip": false, "new_device": false},
		},
		{
			name: "24 hour and 30 day windows",
			events: []Event{
				ev("1", EventLoginSucceeded, ago(40*day), fromIP("10.0.0.1"), fromDevice("d1"), inCountry("FR")),
				ev("2", EventLoginSucceeded, ago(2*day), fromIP("10.0.0.2"), fromDevice("d2"), inCountry("DE")),
				ev("3", EventLoginSucceeded, ago(h), fromIP("10.0.0.3"), fromDevice("d3"), inCountry("DE")),
			},
			want: map[string]any{"ips_24h": 1, "ips_30d": 2, "devices_24h": 1, "devices_30d": 2, "countries_30d": 1},
		},
		{
			name: "an IP seen long ago and again today counts in 24h",
			events: []Event{
				ev("1", EventLoginSucceeded, ago(10*day), fromIP("10.0.0.1")),
				ev("2", EventLoginSucceeded, ago(h), fromIP("10.0.0.1")),
			},
			want: map[string]any{"ips_24h": 1, "ips_30d": 1, "new_ip": false},
		},
		{
			name: "IP changes count switches back and forth in 24h",
			events: []Event{
				ev("1", EventLoginSucceeded, ago(30*h), fromIP("10.0.0.9")), // before the window
				ev("2", EventLoginSucceeded, ago(20*h), fromIP("10.0.0.1")), // change from yesterday's IP: counts
				ev("3", EventLoginSucceeded, ago(10*h), fromIP("10.0.0.2")),
				ev("4", EventLoginSucceeded, ago(9*h), fromIP("10.0.0.2")),
				ev("5", EventLoginSucceeded, ago(8*h), fromIP("10.0.0.1")),
				ev("6", EventOrderPlaced, ago(7*h)), // no IP: neither a change nor a break
				ev("7", EventLoginSucceeded, ago(6*h), fromIP("10.0.0.3")),
			},
			want: map[string]any{"ip_changes_24h": 4, "ips_24h": 3},
		},
		{
			name: "events out of order are counted in time order",
			events: []Event{
				ev("1", EventLoginSucceeded, ago(3*h), fromIP("10.0.0.1"), inCountry("DE"), onASN(100)),
				ev("3", EventLoginSucceeded, ago(1*h), fromIP("10.0.0.1"), inCountry("DE"), onASN(100)),
				// arrives last but happened between the two: A, B, A is two changes
				ev("2", EventLoginSucceeded, ago(2*h), fromIP("10.0.0.2"), inCountry("NL"), onASN(200)),
			},
			want: map[string]any{"ip_changes_24h": 2, "country_changed": true, "asn_changed": true, "new_ip": true, "countries_30d": 2},
		},
		{
			name: "country and network change",
			events: []Event{
				ev("1", EventLoginSucceeded, ago(2*h), fromIP("10.0.0.1"), inCountry("DE"), onASN(100)),
				ev("2", EventLoginSucceeded, ago(h), fromIP("10.0.0.2"), inCountry("BR"), onASN(200)),
			},
			want: map[string]any{"country_changed": true, "asn_changed": true, "countries_30d": 2},
		},
		{
			name: "same country and network again",
			events: []Event{
				ev("1", EventLoginSucceeded, ago(3*h), fromIP("10.0.0.1"), inCountry("DE"), onASN(100)),
				ev("2", EventLoginSucceeded, ago(2*h), fromIP("10.0.0.2"), inCountry("BR"), onASN(200)),
				ev("3", EventLoginSucceeded, ago(h), fromIP("10.0.0.3"), inCountry("br"), onASN(200)),
			},
			want: map[string]any{"country_changed": false, "asn_changed": false, "countries_30d": 2},
		},
		{
			name: "unknown country does not change the country",
			events: []Event{
				ev("1", EventLoginSucceeded, ago(2*h), fromIP("10.0.0.1"), inCountry("DE")),
				ev("2", EventLoginSucceeded, ago(h), fromIP("10.0.0.2")),
			},
			want: map[string]any{"country_changed": false, "countries_30d": 1},
		},
		{
			name: "declined payments in 24h",
			events: []Event{
				ev("1", EventPaymentDeclined, ago(25*h)),
				ev("2", EventPaymentDeclined, ago(23*h)),
				ev("3", EventPaymentDeclined, ago(2*h)),
				ev("4", EventPaymentSucceeded, ago(h)),
				ev("5", EventPaymentDeclined, ago(time.Minute)),
			},
			want: map[string]any{"declined_payments_24h": 3, "events_total": 5},
		},
		{
			name: "orders in 1h and 24h",
			events: []Event{
				ev("1", EventOrderPlaced, ago(30*h)),
				ev("2", EventOrderPlaced, ago(5*h)),
				ev("3", EventOrderPlaced, ago(61*time.Minute)),
				ev("4", EventOrderPlaced, ago(59*time.Minute)),
				ev("5", EventOrderPlaced, ago(time.Minute)),
				ev("6", EventOrderCancelled, ago(time.Minute)),
			},
			want: map[string]any{"orders_1h": 2, "orders_24h": 4},
		},
		{
			name: "profile changes in 30 days",
			events: []Event{
				ev("1", EventProfileChanged, ago(31*day)),
				ev("2", EventProfileChanged, ago(29*day)),
				ev("3", EventProfileChanged, ago(h)),
			},
			want: map[string]any{"profile_changes_30d": 2},
		},
		{
			name: "complaints in 90 days",
			events: []Event{
				ev("1", EventComplaintReceived, ago(91*day)),
				ev("2", EventComplaintReceived, ago(89*day)),
				ev("3", EventComplaintReceived, ago(day)),
			},
			want: map[string]any{"complaints_90d": 2},
		},
		{
			name: "login failures in 1h",
			events: []Event{
				ev("1", EventLoginFailed, ago(2*h)),
				ev("2", EventLoginFailed, ago(30*time.Minute)),
				ev("3", EventLoginFailed, ago(time.Minute)),
			},
			want: map[string]any{"login_failures_1h": 2},
		},
		{
			name: "custom events count in the total only",
			events: []Event{
				ev("1", "wishlist_added", ago(h)),
				ev("2", "coupon_redeemed", ago(h)),
			},
			want: map[string]any{"events_total": 2, "orders_24h": 0},
		},
		{
			name: "a repeated event id counts once",
			events: []Event{
				ev("same", EventPaymentDeclined, ago(h), fromIP("10.0.0.1")),
				ev("same", EventPaymentDeclined, ago(h), fromIP("10.0.0.2")),
			},
			want: map[string]any{"declined_payments_24h": 1, "events_total": 1, "ips_24h": 1, "new_ip": false},
		},
		{
			name: "events without id are all applied",
			events: []Event{
				ev("", EventPaymentDeclined, ago(h)),
				ev("", EventPaymentDeclined, ago(h)),
			},
			want: map[string]any{"declined_payments_24h": 2, "events_total": 2},
		},
		{
			name: "an event stamped a little after now still counts",
			events: []Event{
				ev("1", EventOrderPlaced, t0.Add(2*time.Second)),
			},
			want: map[string]any{"orders_1h": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := applyAll(tt.events).Snapshot(t0)
			for name, want := range tt.want {
				if got[name] != want {
					t.Errorf("%s = %v, want %v", name, got[name], want)
				}
			}
		})
	}
}

func TestFeaturesMoveWithTime(t *testing.T) {
	s := applyAll([]Event{
		ev("1", EventPaymentDeclined, t0, fromIP("10.0.0.1")),
		ev("2", EventOrderPlaced, t0),
	})
	tests := []struct {
		at   time.Duration
		want map[string]any
	}{
		{0, map[string]any{"declined_payments_24h": 1, "orders_1h": 1, "ips_24h": 1}},
		{59 * time.Minute, map[string]any{"declined_payments_24h": 1, "orders_1h": 1}},
		{time.Hour, map[string]any{"orders_1h": 0, "orders_24h": 1}},
		{24 * time.Hour, map[string]any{"declined_payments_24h": 0, "orders_24h": 0, "ips_24h": 0, "ips_30d": 1}},
		{30 * 24 * time.Hour, map[string]any{"ips_30d": 0, "events_total": 2}},
	}
	for _, tt := range tests {
		got := s.Snapshot(t0.Add(tt.at))
		for name, want := range tt.want {
			if got[name] != want {
				t.Errorf("at +%s: %s = %v, want %v", tt.at, name, got[name], want)
			}
		}
	}
}

func TestFeatureStateIsBounded(t *testing.T) {
	var s FeatureState
	n := 1000
	for i := range n {
		at := ago(time.Duration(n-i) * time.Second)
		s.Apply(ev(fmt.Sprint("e", i), EventPaymentDeclined, at,
			fromIP(fmt.Sprintf("10.0.%d.%d", i/256, i%256)), fromDevice(fmt.Sprint("device-", i)),
			inCountry(fmt.Sprintf("C%d", i)), onASN(uint(i+1))))
		s.Apply(ev(fmt.Sprint("o", i), EventOrderPlaced, at))
		s.Apply(ev(fmt.Sprint("p", i), EventProfileChanged, at))
		s.Apply(ev(fmt.Sprint("c", i), EventComplaintReceived, at))
		s.Apply(ev(fmt.Sprint("l", i), EventLoginFailed, at))
	}
	got := s.Snapshot(t0)
	for _, name := range []string{"ips_24h", "ips_30d", "devices_24h", "countries_30d", "declined_payments_24h", "orders_1h", "profile_changes_30d", "complaints_90d", "login_failures_1h"} {
		if got[name] != MaxRemembered {
			t.Errorf("%s = %v, want the cap %d", name, got[name], MaxRemembered)
		}
	}
	if got["ip_changes_24h"] != MaxRemembered-1 {
		t.Errorf("ip_changes_24h = %v, want %d", got["ip_changes_24h"], MaxRemembered-1)
	}
	if got["events_total"] != 5*n {
		t.Errorf("events_total = %v, want %d", got["events_total"], 5*n)
	}
	b, err := json.Marshal(&s)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 24<<10 {
		t.Errorf("state is %d bytes of JSON after %d events; want it bounded under 24 KB", len(b), 5*n)
	}
	t.Logf("full state: %d bytes of JSON", len(b))
	// The newest ids are remembered; the oldest fell out of the ring.
	if !s.Seen(fmt.Sprint("l", n-1)) || s.Seen("e0") {
		t.Errorf("Seen: newest id %v (want true), oldest id %v (want false)", s.Seen(fmt.Sprint("l", n-1)), s.Seen("e0"))
	}
}

func TestFeatureStateJSONRoundTrip(t *testing.T) {
	s := applyAll([]Event{
		ev("1", EventSignup, ago(40*time.Hour), fromIP("2001:db8::1"), fromDevice("d1"), inCountry("DE"), onASN(3320)),
		ev("2", EventLoginSucceeded, ago(3*time.Hour), fromIP("10.0.0.2"), fromDevice("d2"), inCountry("FR"), onASN(5410)),
		ev("3", EventPaymentDeclined, ago(2*time.Hour), fromIP("10.0.0.3")),
		ev("4", EventOrderPlaced, ago(time.Hour)),
		ev("5", EventProfileChanged, ago(time.Hour)),
		ev("6", EventComplaintReceived, ago(time.Hour)),
		ev("7", EventLoginFailed, ago(time.Minute)),
	})
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"2001:db8::1", "10.0.0.2", "d1"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("JSON holds %q in the clear: %s", secret, b)
		}
	}
	var back FeatureState
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if got, want := back.Snapshot(t0), s.Snapshot(t0); !maps.Equal(got, want) {
		t.Errorf("after a round trip\n got %v\nwant %v", got, want)
	}
	// The id ring survives too: a redelivered event still counts once.
	back.Apply(ev("3", EventPaymentDeclined, ago(2*time.Hour)))
	if got := back.Snapshot(t0)["declined_payments_24h"]; got != 1 {
		t.Errorf("declined_payments_24h after a redelivery = %v, want 1", got)
	}
}

func TestFeatureStateUnmarshalRefusesAndRepairs(t *testing.T) {
	var s FeatureState
	for _, bad := range []string{`{"v": 99}`, `[1,2]`, `{"orders": "x"}`} {
		if err := json.Unmarshal([]byte(bad), &s); standing.ErrorCode(err) != standing.EINVALID {
			t.Errorf("Unmarshal(%s) = %v, want an invalid error", bad, err)
		}
	}
	// A damaged row with too many, unsorted entries is cut to the newest MaxRemembered.
	var orders []string
	for i := range 200 {
		orders = append(orders, fmt.Sprint(t0.Add(-time.Duration(i)*time.Second).UnixMilli()))
	}
	raw := fmt.Sprintf(`{"v":1,"newest":%d,"orders":[%s]}`, t0.UnixMilli(), strings.Join(orders, ","))
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		t.Fatal(err)
	}
	if got := s.Snapshot(t0)["orders_1h"]; got != MaxRemembered {
		t.Errorf("orders_1h = %v, want %d", got, MaxRemembered)
	}
	s.Apply(ev("new", EventOrderPlaced, t0))
	if got := s.Snapshot(t0)["orders_1h"]; got != MaxRemembered {
		t.Errorf("orders_1h after one more = %v, want %d", got, MaxRemembered)
	}
}

func TestEventJSON(t *testing.T) {
	for _, e := range []Event{
		{ID: "e1", Type: EventOrderPlaced, AccountID: "acc_1", Time: t0, IP: ip("2001:db8::7"), DeviceID: "d", Country: "DE", ASN: 3320,
			Attributes: map[string]any{"amount": 12.5}},
		{ID: "e2", Type: "custom_thing", AccountID: "acc_1", Time: t0},
	} {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var back Event
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("Unmarshal(%s): %v", b, err)
		}
		if back.IP != e.IP || !back.Time.Equal(e.Time) || back.ID != e.ID || back.ASN != e.ASN || fmt.Sprint(back.Attributes) != fmt.Sprint(e.Attributes) {
			t.Errorf("round trip of %s gave %+v", b, back)
		}
	}
	var e Event
	if err := json.Unmarshal([]byte(`{"id":"x","type":"login_failed","ip":"not an ip"}`), &e); err == nil {
		t.Error("an IP that is not an IP was accepted")
	}
}

func TestFactsAddTo(t *testing.T) {
	tests := []struct {
		name  string
		facts Facts
		want  map[string]any
	}{
		{"nothing known", Facts{}, map[string]any{
			"account_age_days": 0.0, "active_orders": 0, "open_disputes": 0, "dispute_ratio": 0.0,
			"linked_accounts": 0, "linked_restricted": 0, "ip_anonymous": false, "recipient_flagged": false,
		}},
		{"age in days with fractions", Facts{AccountCreatedAt: ago(36 * time.Hour)}, map[string]any{"account_age_days": 1.5}},
		{"dispute ratio", Facts{ActiveOrders: 4, OpenDisputes: 3}, map[string]any{"dispute_ratio": 0.75, "active_orders": 4, "open_disputes": 3}},
		{"disputes without active orders", Facts{OpenDisputes: 2}, map[string]any{"dispute_ratio": 0.0}},
		{"VPN is anonymous", Facts{IP: IPFlags{VPN: true}}, map[string]any{"ip_anonymous": true, "ip_vpn": true, "ip_tor": false}},
		{"hosting is anonymous", Facts{IP: IPFlags{Hosting: true}}, map[string]any{"ip_anonymous": true, "ip_hosting": true}},
		{"residential proxy", Facts{IP: IPFlags{ResidentialProxy: true}}, map[string]any{"ip_anonymous": true, "ip_residential_proxy": true, "ip_proxy": false}},
		{"anonymous without a kind", Facts{IP: IPFlags{Anonymous: true}}, map[string]any{"ip_anonymous": true, "ip_vpn": false}},
		{"links", Facts{LinkedAccounts: 2, LinkedRestricted: 1, RecipientFlagged: true}, map[string]any{"linked_accounts": 2, "linked_restricted": 1, "recipient_flagged": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[string]any{}
			tt.facts.AddTo(got, t0)
			for name, want := range tt.want {
				if got[name] != want {
					t.Errorf("%s = %v (%T), want %v (%T)", name, got[name], got[name], want, want)
				}
			}
			for _, f := range featureCatalog {
				if _, ok := got[f.Name]; f.Source == featureSourceCaller && !ok {
					t.Errorf("AddTo did not set %s", f.Name)
				}
			}
		})
	}
}

func TestFeatureCatalogMatchesSnapshotAndFacts(t *testing.T) {
	all := FeaturesAt(&FeatureState{}, Facts{}, t0)
	if len(all) != len(Features()) {
		t.Errorf("FeaturesAt gives %d features, the catalog lists %d", len(all), len(Features()))
	}
	for _, f := range Features() {
		v, ok := all[f.Name]
		if !ok {
			t.Errorf("feature %s is documented but never set", f.Name)
			continue
		}
		var typ string
		switch v.(type) {
		case int:
			typ = featureKindInt
		case bool:
			typ = featureKindBool
		case float64:
			typ = featureKindDouble
		}
		if typ != f.Type {
			t.Errorf("feature %s is a %T, documented as %s", f.Name, v, f.Type)
		}
		if !maps.Equal(DefaultFeatures(), featureDefaults) || DefaultFeatures()[f.Name] != v {
			t.Errorf("default of %s = %v, want the zero value %v", f.Name, DefaultFeatures()[f.Name], v)
		}
		if f.Description == "" {
			t.Errorf("feature %s has no description", f.Name)
		}
	}
}

func TestRecipientFlagged(t *testing.T) {
	p := standing.DefaultPolicy()
	p.Risk.RecipientWatchList = []string{"Mickey Mouse", "  test  TEST "}
	tests := []struct {
		name string
		want bool
	}{
		{"Mickey Mouse", true},
		{"mickey   mouse", true},
		{"Mickey-Mouse.", true},
		{"test test", true},
		{"Minnie Mouse", false},
		{"Mickey Mouse Jr", false},
		{"", false},
		{"  ", false},
	}
	for _, tt := range tests {
		if got := RecipientFlagged(p, tt.name); got != tt.want {
			t.Errorf("RecipientFlagged(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func BenchmarkApply(b *testing.B) {
	var s FeatureState
	events := make([]Event, 256)
	for i := range events {
		events[i] = ev(fmt.Sprint("e", i), []string{EventLoginSucceeded, EventOrderPlaced, EventPaymentDeclined}[i%3],
			ago(time.Duration(len(events)-i)*time.Minute), fromIP(fmt.Sprintf("10.0.0.%d", i%20)),
			fromDevice(fmt.Sprint("d", i%5)), inCountry("DE"), onASN(3320))
	}
	i := 0
	for b.Loop() {
		e := events[i%len(events)]
		e.ID = fmt.Sprint(i)
		e.Time = t0.Add(time.Duration(i) * time.Second)
		s.Apply(e)
		i++
	}
}

func BenchmarkSnapshot(b *testing.B) {
	var s FeatureState
	for i := range 200 {
		s.Apply(ev(fmt.Sprint("e", i), EventOrderPlaced, ago(time.Duration(200-i)*time.Minute), fromIP(fmt.Sprintf("10.0.0.%d", i%70)), fromDevice(fmt.Sprint("d", i%70))))
	}
	for b.Loop() {
		FeaturesAt(&s, Facts{ActiveOrders: 3}, t0)
	}
}

// TestVectorIntoReusesAVector: a vector filled by VectorInto holds what Snapshot and AddTo
// give, whatever it held before (another event's features), and Get and Map agree.
func TestVectorIntoReusesAVector(t *testing.T) {
	var s FeatureState
	for i := range 5 {
		s.Apply(Event{ID: fmt.Sprint("e", i), Type: "payment_declined", Time: t0.Add(time.Duration(i) * time.Minute), DeviceID: fmt.Sprint("d", i%2)})
	}
	facts := Facts{AccountCreatedAt: t0.Add(-48 * time.Hour), ActiveOrders: 4, OpenDisputes: 3, LinkedAccounts: 1, IP: IPFlags{Tor: true}}
	now := t0.Add(10 * time.Minute)
	var v FeatureVector
	VectorInto(&v, &FeatureState{}, Facts{ActiveOrders: 9, RecipientFlagged: true}, t0)
	VectorInto(&v, &s, facts, now)
	want := s.Snapshot(now)
	facts.AddTo(want, now)
	if got := v.Map(); !maps.Equal(got, want) || len(got) != len(featureCatalog) {
		t.Fatalf("VectorInto = %v\nSnapshot and AddTo = %v", got, want)
	}
	for name, x := range want {
		if got, ok := v.Get(name); !ok || got != x {
			t.Errorf("Get(%q) = %v, %v; want %v", name, got, ok, x)
		}
	}
	if got, ok := v.Get("no_such_feature"); ok {
		t.Errorf("Get of an unknown name = %v, true", got)
	}
	if want[FeatureDeclinedPayments24h] != 5 || want[FeatureIPTor] != true || want[FeatureDisputeRatio] != 0.75 {
		t.Errorf("features = %v", want)
	}
	var zero FeatureVector
	if got := zero.Map(); !maps.Equal(got, featureDefaults) {
		t.Errorf("an empty vector = %v, want the defaults", got)
	}
}
