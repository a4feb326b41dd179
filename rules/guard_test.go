package rules

import (
	"fmt"
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
