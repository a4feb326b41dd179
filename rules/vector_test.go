package rules

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"standing"
)

// TestVectorEvaluatesAsTheMap evaluates an engine — the default pack and rules that read
// the features every way CEL can: a field, an index, has, in, size, a loop over the map, a
// comparison of the whole map, a computed key that is no feature; and rules that guard on
// every field of the event — on many accounts' features given as a vector and as the map
// FeaturesAt gives, and their events as the Event itself (Raw) and as EventVars' map, and
// checks that all give the same evaluation: the rules fired, their explanations, the
// errors, the score and the actions.
func TestVectorEvaluatesAsTheMap(t *testing.T) {
	p := standing.DefaultPolicy()
	rs := DefaultRules(p)
	for i, expr := range []string{
		`features.ips_24h >= 2 && features["devices_24h"] >= 1`,
		`has(features.new_ip) && features.new_ip`,
		`"orders_1h" in features && features.orders_1h > 1`,
		`features.size() == 30 && features.events_total > 3`,
		`features.exists(k, k == "ip_tor" && features[k])`,
		`features.all(k, k != "") && features.dispute_ratio >= 0.5`,
		`features == {} || features.account_age_days < 1.5`,
		`features[event.attributes.name] > 1`,
		`!(event.type in features) && features.linked_restricted > 0`,
		`features.ip_anonymous || features.country_changed && features.declined_payments_24h >= 2`,
		`event.type == "order_placed" && event.attributes.amount > 50`,
		`event.asn == 1 && event.country == "DE"`,
		`event.ip == "10.0.0.1" || event.device_id == "d2"`,
		`event.attributes.name == "ips_24h" && event.account_id == "acc_1"`,
		`event.time > timestamp("2026-11-02T14:00:00Z") && event.id != "e0-0"`,
		`event.attributes.deep.er > 1`,
		`event.type.startsWith("pay") && !(event.attributes.amount < 10)`,
		`has(event.attributes.amount) && event.attributes["amount"] >= 90`,
	} {
		rs = append(rs, Rule{ID: fmt.Sprint("extra", i), Name: "extra", Version: 1, Enabled: true, Expression: expr,
			Outcome: Outcome{Score: i + 1}, Mode: []Mode{ModeActive, ModeShadow}[i%2]})
	}
	e := mustEngine(t, p, rs)
	r := rand.New(rand.NewPCG(7, 9))
	types := []string{EventLoginSucceeded, EventPaymentDeclined, EventOrderPlaced, EventProfileChanged, EventDisputeOpened, "custom"}
	account := AccountVars(standing.Account{ID: "acc_1", Role: standing.RoleBuyer, Lifecycle: standing.LifecycleActive, CreatedAt: t0.Add(-72 * time.Hour)})
	fired, compared := 0, 0
	for k := range 300 {
		var s FeatureState
		now := t0
		var last Event
		for i := range r.IntN(12) + 1 {
			now = now.Add(time.Duration(r.IntN(90)) * time.Minute)
			last = Event{ID: fmt.Sprint("e", k, "-", i), Type: types[r.IntN(len(types))], AccountID: "acc_1", Time: now,
				IP:       netip.AddrFrom4([4]byte{10, 0, 0, byte(r.IntN(4))}),
				DeviceID: fmt.Sprint("d", r.IntN(3)), Country: []string{"DE", "FR"}[r.IntN(2)], ASN: uint(r.IntN(2)),
				Attributes: map[string]any{"name": []string{"orders_24h", "ips_24h", "nothing"}[r.IntN(3)], "amount": int64(r.IntN(100))}}
			if r.IntN(4) == 0 {
				last.Attributes = nil
			}
			if r.IntN(5) == 0 {
				last.IP = netip.Addr{}
			}
			s.Apply(last)
		}
		facts := Facts{AccountCreatedAt: t0.Add(-time.Duration(r.IntN(72)) * time.Hour), ActiveOrders: r.IntN(6), OpenDisputes: r.IntN(4),
			LinkedAccounts: r.IntN(3), LinkedRestricted: r.IntN(2), IP: IPFlags{VPN: r.IntN(4) == 0, Tor: r.IntN(5) == 0},
			RecipientFlagged: r.IntN(6) == 0}
		var vec FeatureVector
		VectorInto(&vec, &s, facts, now)
		byMap := e.Evaluate(Input{Event: EventVars(last), Account: account, Features: FeaturesAt(&s, facts, now)})
		byVector := e.Evaluate(Input{Event: EventVars(last), Account: account, Vector: &vec})
		if !reflect.DeepEqual(byVector, byMap) {
			t.Fatalf("account %d: with a vector\n%+v\nwith the map\n%+v", k, byVector, byMap)
		}
		byRaw := e.Evaluate(Input{Raw: &last, Account: account, Vector: &vec})
		if !reflect.DeepEqual(byRaw, byMap) {
			t.Fatalf("account %d: with the raw event\n%+v\nwith the maps\n%+v", k, byRaw, byMap)
		}
		for _, prg := range e.progs {
			a, errA := prg.Eval(Input{Raw: &last, Account: account, Vector: &vec})
			b, errB := prg.Eval(Input{Event: EventVars(last), Account: account, Features: FeaturesAt(&s, facts, now)})
			// A loop over the map stops at a key found in Go's map order, so its cost
			// varies from one evaluation to the next, map or vector alike.
			a.Cost, b.Cost = 0, 0
			if !reflect.DeepEqual(a, b) || fmt.Sprint(errA) != fmt.Sprint(errB) {
				t.Fatalf("account %d, rule %s: with a vector %+v, %v; with the map %+v, %v", k, prg.rule.ID, a, errA, b, errB)
			}
		}
		fired += len(byMap.Active) + len(byMap.Shadow)
		compared++
	}
	if fired < compared {
		t.Fatalf("%d rules fired over %d accounts: the comparison saw too little", fired, compared)
	}
}
