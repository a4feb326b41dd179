package rules

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"standing"
)

func TestGuardTypes(t *testing.T) {
	for _, c := range []struct {
		expr string
		want []string
	}{
		{`event.type == "a"`, []string{"a"}},
		{`"a" == event.type`, []string{"a"}},
		{`event.type in ["a", "b"]`, []string{"a", "b"}},
		{`account.role == "buyer" && event.type == "a" && features.new_ip`, []string{"a"}},
		{`event.type in ["a", "b"] && event.type == "b"`, []string{"b"}},
		{`event.type == "a" && event.type == "b"`, []string{}},
		{`event.type == "a" || event.type == "b"`, []string{"a", "b"}},
		{`event.type == "a" || features.new_ip`, nil},
		{`event.type != "a"`, nil},
		{`!(event.type == "a")`, nil},
		{`features.new_ip`, nil},
		{`event.type in ["a", account.role]`, nil},
		{`event["type"] == "a"`, []string{"a"}},
	} {
		prg := mustCompile(t, c.expr)
		if !reflect.DeepEqual(prg.types, c.want) {
			t.Errorf("%s: guard %#v, want %#v", c.expr, prg.types, c.want)
		}
	}
}

// TestEngineSkipsOnlyRulesThatCannotFire evaluates an engine of guarded and unguarded rules
// on events of every type and checks each result against evaluating every rule alone.
func TestEngineSkipsOnlyRulesThatCannotFire(t *testing.T) {
	p := standing.DefaultPolicy()
	rs := append(DefaultRules(p), extraRules(40)...)
	e := mustEngine(t, p, rs)
	acc := standing.Account{ID: "acc_1", Role: standing.RoleBuyer, Lifecycle: standing.LifecycleActive, Country: "DE", CreatedAt: ago(10 * time.Hour)}
	var st FeatureState
	for i, typ := range []string{EventSignup, EventLoginFailed, EventOrderPlaced, EventPaymentDeclined, EventPaymentDeclined,
		EventPaymentDeclined, EventProfileChanged, EventOrderPlaced, "custom_x", EventComplaintReceived} {
		event := ev(fmt.Sprint("e", i), typ, ago(time.Duration(10-i)*time.Minute), fromIP(fmt.Sprintf("10.0.0.%d", i)), fromDevice(fmt.Sprint("d", i%3)))
		st.Apply(event)
		in := NewInput(event, acc, FeaturesAt(&st, Facts{IP: IPFlags{Proxy: i%2 == 0}, ActiveOrders: 5, OpenDisputes: 3, LinkedAccounts: 1}, event.Time))
		in.Event["attributes"] = map[string]any{"amount": 500.0, "tags": []any{"gift_card"}}
		got := e.Evaluate(in)
		var want []string
		for _, prg := range e.progs {
			if !prg.rule.Enabled {
				continue
			}
			if res, err := prg.Eval(in); err == nil && res.Fired {
				want = append(want, prg.rule.ID)
			}
		}
		var fired []string
		for _, f := range append(slices.Clone(got.Active), got.Shadow...) {
			fired = append(fired, f.RuleID)
		}
		slices.Sort(fired)
		slices.Sort(want)
		if !slices.Equal(fired, want) {
			t.Errorf("%s: fired %v, want %v", typ, fired, want)
		}
	}
}

func TestGuardsOf(t *testing.T) {
	for _, c := range []struct {
		expr string
		want []string
	}{
		{`features.ips_24h >= 5`, []string{`features.ips_24h >= 5`}},
		{`5 < features.ips_24h`, []string{`features.ips_24h > 5`}},
		{`account.role == "buyer" && features.new_device && !features.ip_vpn`, []string{
			`account.role == "buyer"`, `features.new_device`, `!features.ip_vpn`}},
		{`features.dispute_ratio > 0.5 && (features.new_ip || features.new_device)`, []string{
			`features.dispute_ratio > 0.5`, `(features.new_ip || features.new_device)`}},
		{`features.new_ip == true`, []string{`features.new_ip == true`}},
		{`features.new_ip || features.ips_24h > 3 || features.ip_tor`, []string{`(features.new_ip || features.ips_24h > 3 || features.ip_tor)`}},
		{`event.type == "a" && (features.declined_payments_24h >= 5 || features.declined_payments_24h >= 3 && (features.new_device || features.country_changed))`,
			[]string{`event.type == "a"`, `(features.declined_payments_24h >= 5 || features.declined_payments_24h >= 3 && (features.new_device || features.country_changed))`}},
		{`has(event.attributes.amount) && event.attributes.amount > 100`, []string{`event.attributes.amount > 100`}},
		{`event.attributes["amount"] >= 2.0`, []string{`event.attributes.amount >= 2.0`}},
		{`features.new_ip || event.attributes.tags.exists(t, t == "x")`, nil},
		{`has(features.new_ip)`, nil},
		{`features.ips_24h > features.devices_24h`, nil},
	} {
		prg := mustCompile(t, c.expr)
		var got []string
		for _, g := range prg.guards {
			got = append(got, g.String())
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: guards %q, want %q", c.expr, got, c.want)
		}
	}
}

// TestGuardsAgreeWithCEL evaluates expressions with guards on inputs of every kind — values
// of the literal's kind on both sides of it, of other kinds, missing, NaN — and checks that
// a guard rules a rule out only when CEL gives false for it, and that guards rule out most
// of them (a guard that never decides would pass the first check by doing nothing). An
// engine of all the rules, whose guards share the fields they read, fires what CEL fires.
func TestGuardsAgreeWithCEL(t *testing.T) {
	exprs := []string{
		`features.ips_24h >= 3`, `features.ips_24h > 3`, `features.ips_24h < 3`, `features.ips_24h <= 3`,
		`features.ips_24h == 3`, `features.ips_24h != 3`, `3 > features.ips_24h`, `3 <= features.ips_24h`,
		`features.dispute_ratio > 0.5`, `0.5 >= features.dispute_ratio`, `features.dispute_ratio == 0.5`,
		`account.role == "buyer"`, `account.role != "buyer"`, `"buyer" < account.role`,
		`features.new_ip`, `!features.new_ip`, `features.new_ip == false`, `features.new_ip != true`,
		`features.ips_24h > 1 && features.new_ip && account.role == "buyer" && event.attributes.amount > 10`,
		`features.ips_24h >= 2 && (event.attributes.amount > 10 || features.dispute_ratio < 0.2)`,
		`features.new_ip || features.ips_24h > 3`, `features.dispute_ratio >= 0.5 || account.role == "seller" && !features.new_ip`,
		`(features.ips_24h < 3 || features.new_ip) && (account.role != "buyer" || features.dispute_ratio > 0.6)`,
		`event.attributes.amount > 2 && features.ips_24h != 2`, `event.attributes.amount < 0.6 || features.new_ip`,
	}
	values := []any{nil, 0, 2, 3, 4, int64(3), int64(-9), 0.0, 0.5, 0.7, 3.0, math.NaN(), math.Inf(1), "buyer", "seller", "", true, false}
	var inputs []Input
	for _, ips := range values {
		for _, ratio := range values {
			for _, role := range values {
				for _, newIP := range values {
					attrs := map[string]any{}
					in := Input{Event: map[string]any{"type": "x", "attributes": attrs},
						Account: map[string]any{}, Features: map[string]any{}}
					set := func(m map[string]any, k string, v any) {
						if v != nil {
							m[k] = v
						}
					}
					set(in.Features, "ips_24h", ips)
					set(in.Features, "dispute_ratio", ratio)
					set(in.Features, "new_ip", newIP)
					set(in.Account, "role", role)
					set(attrs, "amount", ratio)
					inputs = append(inputs, in)
				}
			}
		}
	}
	var rs []Rule
	decided := 0
	for i, expr := range exprs {
		prg := mustCompile(t, expr)
		if len(prg.guards) == 0 {
			t.Fatalf("%s: no guard", expr)
		}
		rs = append(rs, Rule{ID: fmt.Sprint("r", i), Name: "r", Version: 1, Enabled: true, Expression: expr, Outcome: Outcome{Score: 1}, Mode: ModeActive})
		for _, in := range inputs {
			if !prg.guardsFail(&in) {
				continue
			}
			decided++
			res, err := prg.Eval(in)
			if err != nil || res.Fired {
				t.Fatalf("%s: a guard ruled it out, CEL gives %v, %v for %v %v", expr, res.Fired, err, in.Features, in.Account)
			}
		}
	}
	if decided < 10000 {
		t.Fatalf("guards decided %d inputs; they decide almost nothing", decided)
	}
	e := mustEngine(t, standing.DefaultPolicy(), rs)
	for k, in := range inputs {
		if k%5 != 0 {
			continue
		}
		var want []string
		for _, prg := range e.progs {
			if res, err := prg.Eval(in); err == nil && res.Fired {
				want = append(want, prg.rule.ID)
			}
		}
		var got []string
		for _, f := range e.Evaluate(in).Active {
			got = append(got, f.RuleID)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("engine fired %v, the rules alone %v, for %v %v", got, want, in.Features, in.Account)
		}
	}
}
