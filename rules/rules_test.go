package rules

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"standing"
)

// mustCompile compiles an active rule with the expression or fails the test.
func mustCompile(t testing.TB, expr string) *Program {
	t.Helper()
	p, err := Compile(Rule{ID: "test", Name: "test", Expression: expr, Mode: ModeActive, Enabled: true})
	if err != nil {
		t.Fatalf("Compile(%q): %v", expr, err)
	}
	return p
}

// mustEngine builds an engine or fails the test.
func mustEngine(t testing.TB, p *standing.Policy, rules []Rule) *Engine {
	t.Helper()
	e, err := NewEngine(p, rules)
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	return e
}

// asError returns err as a *standing.Error or fails the test.
func asError(t *testing.T, err error) *standing.Error {
	t.Helper()
	var se *standing.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *standing.Error", err, err)
	}
	return se
}

func sampleInput() Input {
	e := Event{ID: "ev_1", Type: EventOrderPlaced, AccountID: "acc_1", Time: t0, IP: ip("203.0.113.7"),
		DeviceID: "dev_1", Country: "DE", ASN: 3320,
		Attributes: map[string]any{"amount": 250.0, "order_id": "ord_1", "tags": []any{"gift"}}}
	a := standing.Account{ID: "acc_1", Role: standing.RoleBuyer, Lifecycle: standing.LifecycleActive, Country: "DE", CreatedAt: ago(10 * 24 * time.Hour)}
	f := DefaultFeatures()
	f["declined_payments_24h"] = 3
	f["ip_vpn"] = true
	f["ip_anonymous"] = true
	return NewInput(e, a, f)
}

func TestCompileErrorsGivePositions(t *testing.T) {
	tests := []struct {
		name      string
		expr      string
		line, col int
		contains  string
	}{
		{"empty", "  ", 1, 1, "empty"},
		{"unfinished", "event.type == ", 1, 15, "Syntax error"},
		{"undeclared on line 2", "event.type == 'x' &&\n  foo > 2", 2, 3, "undeclared reference to 'foo'"},
		{"unknown feature", "features.ips_24 > 2", 1, 10, `no feature "ips_24" (did you mean "ips_24h"?)`},
		{"unknown feature by index", "features['ip_vnp']", 1, 9, `(did you mean "ip_vpn"?)`},
		{"unknown feature in has", "event.type == 'x' && has(features.foo)", 1, 26, `no feature "foo"`},
		{"unknown event field", "event.tpye == 'x'", 1, 7, `event has no field "tpye" (did you mean "type"?)`},
		{"unknown account field", "true &&\naccount.rol == 'buyer'", 2, 9, `account has no field "rol" (did you mean "role"?)`},
		{"wrong operand types", "'a' + 1 > 0", 1, 5, "no matching overload for '_+_'"},
		{"not a condition", "1 + 2", 1, 1, "type int; a rule must give true or false"},
		{"a string is not a condition", "event.type + 'x'", 1, 1, "type string"},
		{"too long", "true || " + strings.Repeat("x", MaxExpressionLength), 1, 1, "over the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(Rule{ID: "r", Expression: tt.expr})
			if err == nil {
				t.Fatalf("Compile(%q) succeeded, want an error", tt.expr)
			}
			se := asError(t, err)
			if se.Code != standing.EINVALID || se.Field != "expression" {
				t.Errorf("code, field = %q, %q; want invalid, expression", se.Code, se.Field)
			}
			wantPos := fmt.Sprintf("line %d, column %d: ", tt.line, tt.col)
			if !strings.HasPrefix(se.Message, wantPos) {
				t.Errorf("message %q does not start with %q", se.Message, wantPos)
			}
			if !strings.Contains(se.Message, tt.contains) {
				t.Errorf("message %q does not say %q", se.Message, tt.contains)
			}
		})
	}
}

func TestCompileAccepts(t *testing.T) {
	for _, expr := range []string{
		"features.ip_vpn",                         // dyn result, a bool at run time
		"features['ip_vpn'] && event.asn == 3320", // index by constant
		"has(event.attributes.coupon) && event.attributes.coupon.startsWith('FREE')",
		"event.attributes.tags.exists(t, t == 'gift')",
		"event.attributes.tags.exists(event, event == 'gift')", // a loop variable may shadow a variable
		"event.time - account.created_at < duration('24h')",
		"features.dispute_ratio > 1", // double against int
		"event.ip.startsWith('10.') || event.country in ['KP', 'IR']",
		"[1, 2, 3].all(x, [1, 2, 3].exists(y, x * y > 0))", // small nested loops over literals
	} {
		if _, err := Compile(Rule{ID: "r", Expression: expr}); err != nil {
			t.Errorf("Compile(%q): %v", expr, err)
		}
	}
}

func TestCostLimitRefusesCostlyExpressions(t *testing.T) {
	ten := "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"
	tests := []struct {
		name      string
		expr      string
		line, col int
	}{
		{"four nested loops over literals", fmt.Sprintf("%s.all(a, %s.all(b, %s.all(c, %s.all(d, a + b + c + d >= 0))))", ten, ten, ten, ten), 1, 35},
		{"nested loops over input", "event.type == 'x' &&\n  event.attributes.items.exists(a, event.attributes.items.exists(b, a == b))", 2, 32},
		{"loops inside map", "event.attributes.l.map(a, event.attributes.l.map(b, event.attributes.l.map(c, 1))).size() > 0", 1, 23},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(Rule{ID: "r", Expression: tt.expr})
			if err == nil {
				t.Fatalf("Compile accepted a costly expression: %s", tt.expr)
			}
			se := asError(t, err)
			wantPos := fmt.Sprintf("line %d, column %d: ", tt.line, tt.col)
			if se.Code != standing.EINVALID || se.Field != "expression" || !strings.HasPrefix(se.Message, wantPos) || !strings.Contains(se.Message, "over the limit") {
				t.Errorf("error = %v; want invalid expression starting %q and naming the limit", err, wantPos)
			}
		})
	}
}

func TestRuntimeCostLimitStopsLongLoops(t *testing.T) {
	// One loop passes the estimate (it assumes lists of up to 100), but this input is far
	// longer: the runtime limit stops it instead of letting it run.
	prg := mustCompile(t, "event.attributes.items.all(x, x >= 0)")
	items := make([]any, 500_000)
	for i := range items {
		items[i] = i
	}
	in := sampleInput()
	in.Event["attributes"] = map[string]any{"items": items}
	start := time.Now()
	res, err := prg.Eval(in)
	if err == nil {
		t.Fatalf("Eval over %d items succeeded (cost %d); want it stopped at the limit", len(items), res.Cost)
	}
	if se := asError(t, err); se.Code != standing.EINVALID || !strings.Contains(se.Message, "stopped") {
		t.Errorf("error = %v, want it stopped by the cost limit", err)
	}
	if res.Fired {
		t.Error("a stopped rule fired")
	}
	t.Logf("stopped after %s", time.Since(start))

	// The same rule on a normal input runs and reports its measured cost.
	in.Event["attributes"] = map[string]any{"items": []any{1, 2, 3}}
	res, err = prg.Eval(in)
	if err != nil || !res.Fired || res.Cost == 0 || res.Cost > 100 {
		t.Errorf("Eval on 3 items = %+v, %v; want fired with a small cost", res, err)
	}
}

func TestEvalExplains(t *testing.T) {
	prg := mustCompile(t, `event.type == "order_placed" && account.role == "buyer" &&
		features.declined_payments_24h >= 3 && (features.ip_vpn || has(event.attributes.coupon)) &&
		event.attributes.amount > 100.0 && event.time > account.created_at`)
	res, err := prg.Eval(sampleInput())
	if err != nil {
		t.Fatal(err)
	}
	if !res.Fired {
		t.Fatal("the rule did not fire")
	}
	want := Explanation{
		{Name: "event.type", Value: "order_placed"},
		{Name: "account.role", Value: "buyer"},
		{Name: "features.declined_payments_24h", Value: 3},
		{Name: "features.ip_vpn", Value: true},
		{Name: "event.attributes.coupon", Missing: true},
		{Name: "event.attributes.amount", Value: 250.0},
		{Name: "event.time", Value: t0},
		{Name: "account.created_at", Value: ago(10 * 24 * time.Hour)},
	}
	if !reflect.DeepEqual(res.Explanation, want) {
		t.Errorf("explanation\n got %#v\nwant %#v", res.Explanation, want)
	}
	wantText := `event.type = "order_placed", account.role = "buyer", features.declined_payments_24h = 3, features.ip_vpn = true, event.attributes.coupon = (missing), event.attributes.amount = 250, event.time = 2026-11-02T12:00:00Z, account.created_at = 2026-10-23T12:00:00Z`
	if got := res.Explanation.String(); got != wantText {
		t.Errorf("String()\n got %s\nwant %s", got, wantText)
	}
	if got := prg.References(); len(got) != len(want) || got[0] != "event.type" {
		t.Errorf("References() = %v", got)
	}
}

func TestEvalMissingAndWrongValues(t *testing.T) {
	tests := []struct {
		name      string
		expr      string
		in        Input
		fired     bool
		errSays   string
		explained Value
	}{
		{
			name: "missing documented feature is zero", expr: "features.declined_payments_24h >= 3",
			in:        Input{Event: map[string]any{"type": "order_placed"}},
			explained: Value{Name: "features.declined_payments_24h", Value: 0},
		},
		{
			name: "missing documented bool is false", expr: "!features.ip_tor",
			in: Input{}, fired: true,
			explained: Value{Name: "features.ip_tor", Value: false},
		},
		{
			name: "missing event field is empty", expr: "event.country == ''",
			in: Input{}, fired: true,
			explained: Value{Name: "event.country", Value: ""},
		},
		{
			name: "missing attribute is an error", expr: "event.attributes.amount > 10.0",
			in: sampleInputWith(func(in Input) { in.Event["attributes"] = map[string]any{} }), errSays: "no such key",
			explained: Value{Name: "event.attributes.amount", Missing: true},
		},
		{
			name: "has guards a missing attribute", expr: "has(event.attributes.amount) && event.attributes.amount > 10.0",
			in:        sampleInputWith(func(in Input) { in.Event["attributes"] = map[string]any{} }),
			explained: Value{Name: "event.attributes.amount", Missing: true},
		},
		{
			name: "computed index on a missing key", expr: "features[event.attributes.order_id] == 1",
			in: sampleInput(), errSays: "no such key",
			explained: Value{Name: "event.attributes.order_id", Value: "ord_1"},
		},
		{
			name: "a value of the wrong type", expr: "features.declined_payments_24h >= 'three'",
			in: sampleInput(), errSays: "failed to evaluate",
			explained: Value{Name: "features.declined_payments_24h", Value: 3},
		},
		{
			name: "a result that is not a bool", expr: "features.ips_24h",
			in: sampleInput(), errSays: "not true or false",
			explained: Value{Name: "features.ips_24h", Value: 0},
		},
		{
			name: "JSON numbers are doubles and compare with ints", expr: "features.orders_1h >= 3",
			in: Input{Features: map[string]any{"orders_1h": 3.0}}, fired: true,
			explained: Value{Name: "features.orders_1h", Value: 3.0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := mustCompile(t, tt.expr).Eval(tt.in)
			switch {
			case tt.errSays == "" && err != nil:
				t.Fatalf("Eval: %v", err)
			case tt.errSays != "":
				if err == nil {
					t.Fatalf("Eval succeeded (fired %v), want an error saying %q", res.Fired, tt.errSays)
				}
				se := asError(t, err)
				if se.Code != standing.EINVALID || se.Field != "expression" || !strings.Contains(se.Message, tt.errSays) {
					t.Errorf("error = %v, want invalid expression saying %q", err, tt.errSays)
				}
			}
			if res.Fired != tt.fired {
				t.Errorf("fired = %v, want %v", res.Fired, tt.fired)
			}
			if len(res.Explanation) == 0 || !reflect.DeepEqual(res.Explanation[0], tt.explained) {
				t.Errorf("explanation = %#v, want it to start with %#v", res.Explanation, tt.explained)
			}
		})
	}
}

func sampleInputWith(change func(Input)) Input {
	in := sampleInput()
	change(in)
	return in
}

func TestEvalDoesNotChangeTheInput(t *testing.T) {
	in := Input{Features: map[string]any{"orders_1h": 1}}
	if _, err := mustCompile(t, "features.orders_1h >= 1 && !features.ip_vpn").Eval(in); err != nil {
		t.Fatal(err)
	}
	if len(in.Features) != 1 {
		t.Errorf("Eval added defaults to the caller's map: %v", in.Features)
	}
}

func TestOutcomeValidate(t *testing.T) {
	p := standing.DefaultPolicy()
	tests := []struct {
		name    string
		outcome Outcome
		field   string
	}{
		{"score only", Outcome{Score: 10}, ""},
		{"restriction with a duration", Outcome{ReasonCode: standing.ReasonRiskReview, Duration: standing.Duration(72 * time.Hour), CloseOpenOrders: true}, ""},
		{"payment verification", Outcome{RequirePaymentVerification: true}, ""},
		{"close the event's order", Outcome{CloseEventOrder: true}, ""},
		{"review", Outcome{Review: true}, ""},
		{"nothing", Outcome{}, "outcome"},
		{"unknown reason", Outcome{ReasonCode: "too_nice"}, "outcome.reason_code"},
		{"reviewer-only reason", Outcome{ReasonCode: standing.ReasonFraudConfirmed}, "outcome.reason_code"},
		{"person-only reason", Outcome{ReasonCode: standing.ReasonSelfDeleted}, "outcome.reason_code"},
		{"deadline-only reason", Outcome{ReasonCode: standing.ReasonEmailUnverified}, "outcome.reason_code"},
		{"negative duration", Outcome{ReasonCode: standing.ReasonRiskReview, Duration: -1}, "outcome.duration"},
		{"duration without reason", Outcome{Score: 1, Duration: standing.Duration(time.Hour)}, "outcome.duration"},
		{"score too high", Outcome{Score: MaxScore + 1}, "outcome.score"},
		{"score too low", Outcome{Score: -MaxScore - 1}, "outcome.score"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.outcome.Validate(p)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate accepted %+v", tt.outcome)
			}
			se := asError(t, err)
			if se.Code != standing.EINVALID || se.Field != tt.field {
				t.Errorf("error = %v, want invalid %s", err, tt.field)
			}
		})
	}
}

func TestRuleValidate(t *testing.T) {
	p := standing.DefaultPolicy()
	good := Rule{ID: "vpn_checkout-2", Name: "VPN at checkout", Expression: "features.ip_vpn", Outcome: Outcome{Score: 5}, Mode: ModeShadow, Version: 3}
	if err := good.Validate(p); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	tests := []struct {
		name   string
		change func(*Rule)
		field  string
	}{
		{"no id", func(r *Rule) { r.ID = "" }, "id"},
		{"id with spaces", func(r *Rule) { r.ID = "VPN rule" }, "id"},
		{"id too long", func(r *Rule) { r.ID = strings.Repeat("a", 65) }, "id"},
		{"no name", func(r *Rule) { r.Name = " " }, "name"},
		{"unknown mode", func(r *Rule) { r.Mode = "dry-run" }, "mode"},
		{"no mode", func(r *Rule) { r.Mode = "" }, "mode"},
		{"negative version", func(r *Rule) { r.Version = -1 }, "version"},
		{"description too long", func(r *Rule) { r.Description = strings.Repeat("x", standing.MaxNoteLen+1) }, "description"},
		{"bad outcome", func(r *Rule) { r.Outcome = Outcome{ReasonCode: "nope"} }, "outcome.reason_code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good
			tt.change(&r)
			err := r.Validate(p)
			if err == nil {
				t.Fatal("Validate accepted the rule")
			}
			if se := asError(t, err); se.Code != standing.EINVALID || se.Field != tt.field {
				t.Errorf("error = %v, want invalid %s", err, tt.field)
			}
		})
	}
}

func TestNewEngineNamesTheBadRule(t *testing.T) {
	p := standing.DefaultPolicy()
	ok := Rule{ID: "a", Name: "A", Expression: "true", Outcome: Outcome{Score: 1}, Mode: ModeActive, Enabled: true}
	badExpr := Rule{ID: "b", Name: "B", Expression: "features.nope", Outcome: Outcome{Score: 1}, Mode: ModeActive}
	badOutcome := Rule{ID: "c", Name: "C", Expression: "true", Outcome: Outcome{ReasonCode: "nope"}, Mode: ModeActive}
	tests := []struct {
		name  string
		rules []Rule
		field string
		says  string
	}{
		{"expression of a disabled rule", []Rule{ok, badExpr}, "rules[1].expression", `rule "b": line 1, column 10`},
		{"outcome", []Rule{badOutcome}, "rules[0].outcome.reason_code", `rule "c": unknown reason code`},
		{"duplicate id", []Rule{ok, ok}, "rules[1].id", "used by rules[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewEngine(p, tt.rules)
			if err == nil {
				t.Fatal("NewEngine accepted the rules")
			}
			se := asError(t, err)
			if se.Field != tt.field || !strings.Contains(se.Message, tt.says) {
				t.Errorf("error = %v, want field %s saying %q", err, tt.field, tt.says)
			}
		})
	}
}

func TestEngineSplitsActiveAndShadow(t *testing.T) {
	p := standing.DefaultPolicy()
	week := standing.Duration(7 * 24 * time.Hour)
	rules := []Rule{
		{ID: "vpn", Name: "VPN", Expression: "features.ip_vpn", Mode: ModeActive, Enabled: true,
			Outcome: Outcome{Score: 10, ReasonCode: standing.ReasonRiskReview, Duration: week}},
		{ID: "vpn_shadow", Name: "VPN, trial", Expression: "features.ip_vpn && event.type == 'order_placed'", Mode: ModeShadow, Enabled: true,
			Outcome: Outcome{Score: 5, ReasonCode: standing.ReasonDisputeAbuse, CloseOpenOrders: true}},
		{ID: "disabled", Name: "Off", Expression: "true", Mode: ModeActive, Enabled: false,
			Outcome: Outcome{Score: 100, CloseOpenOrders: true}},
		{ID: "declines", Name: "Declines", Expression: "features.declined_payments_24h >= 3", Mode: ModeActive, Enabled: true,
			Outcome: Outcome{Score: 20, ReasonCode: standing.ReasonRiskReview, RequirePaymentVerification: true, Review: true}},
		{ID: "quiet", Name: "Does not fire", Expression: "features.orders_1h > 100", Mode: ModeActive, Enabled: true,
			Outcome: Outcome{Score: 50}},
		{ID: "broken", Name: "Fails", Expression: "event.attributes.missing == 1", Mode: ModeActive, Enabled: true,
			Outcome: Outcome{Score: 50}},
		{ID: "sellers_only", Name: "Seller reason on a buyer", Expression: "true", Mode: ModeActive, Enabled: true,
			Outcome: Outcome{Score: 1, ReasonCode: standing.ReasonRiskReview, CloseEventOrder: true}},
		{ID: "buyer_reason", Name: "Buyer reason", Expression: "account.role == 'seller'", Mode: ModeActive, Enabled: true,
			Outcome: Outcome{Score: 1, ReasonCode: standing.ReasonBuyerComplaints}},
	}
	e := mustEngine(t, p, rules)
	ev := e.Evaluate(sampleInput())

	ids := func(fs []Fired) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.RuleID)
		}
		return out
	}
	if got, want := ids(ev.Active), []string{"vpn", "declines", "sellers_only"}; !reflect.DeepEqual(got, want) {
		t.Errorf("active = %v, want %v", got, want)
	}
	if got, want := ids(ev.Shadow), []string{"vpn_shadow"}; !reflect.DeepEqual(got, want) {
		t.Errorf("shadow = %v, want %v", got, want)
	}
	if ev.Score != 31 || ev.ShadowScore != 5 {
		t.Errorf("score, shadow score = %d, %d; want 31, 5", ev.Score, ev.ShadowScore)
	}
	want := Actions{
		Restrictions: []RestrictionAction{
			{ReasonCode: standing.ReasonRiskReview, Duration: 0, RuleIDs: []string{"vpn", "declines", "sellers_only"}},
			{ReasonCode: standing.ReasonPaymentVerification, RuleIDs: []string{"declines"}},
		},
		CloseEventOrder: true,
		Review:          true,
	}
	if !reflect.DeepEqual(ev.Actions, want) {
		t.Errorf("actions\n got %+v\nwant %+v", ev.Actions, want)
	}
	if len(ev.Errors) != 1 || ev.Errors[0].RuleID != "broken" || !strings.Contains(ev.Errors[0].Message, "no such key") {
		t.Errorf("errors = %+v, want the broken rule's", ev.Errors)
	}
	if got := ev.Active[1].Explanation.String(); got != "features.declined_payments_24h = 3" {
		t.Errorf("explanation of declines = %q", got)
	}
	if ev.Shadow[0].Mode != ModeShadow || ev.Active[0].Version != 0 || ev.Active[0].Name != "VPN" {
		t.Errorf("fired rule details wrong: %+v / %+v", ev.Shadow[0], ev.Active[0])
	}

	// On a seller the buyer-only reason is left out of the actions and said so.
	seller := sampleInput()
	seller.Account["role"] = "seller"
	ev = e.Evaluate(seller)
	for _, r := range ev.Actions.Restrictions {
		if r.ReasonCode == standing.ReasonBuyerComplaints {
			t.Errorf("buyer_complaints restriction proposed for a seller")
		}
	}
	found := false
	for _, x := range ev.Errors {
		found = found || x.RuleID == "buyer_reason" && strings.Contains(x.Message, "applies to buyer accounts")
	}
	if !found {
		t.Errorf("errors = %+v, want one about the buyer-only reason", ev.Errors)
	}
}

func TestRestrictionDurationsMerge(t *testing.T) {
	p := standing.DefaultPolicy()
	day := standing.Duration(24 * time.Hour)
	rule := func(id string, d standing.Duration) Rule {
		return Rule{ID: id, Name: id, Expression: "true", Mode: ModeActive, Enabled: true,
			Outcome: Outcome{ReasonCode: standing.ReasonRiskReview, Duration: d}}
	}
	tests := []struct {
		name string
		ds   []standing.Duration
		want standing.Duration
	}{
		{"longest wins", []standing.Duration{day, 7 * day, 3 * day}, 7 * day},
		{"until lifted wins", []standing.Duration{day, 0, 3 * day}, 0},
		{"one", []standing.Duration{2 * day}, 2 * day},
	}
	for _, tt := range tests {
		var rules []Rule
		for i, d := range tt.ds {
			rules = append(rules, rule(fmt.Sprint("r", i), d))
		}
		got := mustEngine(t, p, rules).Evaluate(sampleInput()).Actions.Restrictions
		if len(got) != 1 || got[0].Duration != tt.want || len(got[0].RuleIDs) != len(tt.ds) {
			t.Errorf("%s: restrictions = %+v, want one of %s from %d rules", tt.name, got, tt.want, len(tt.ds))
		}
	}
}

func TestEngineIsSafeForConcurrentUse(t *testing.T) {
	p := standing.DefaultPolicy()
	rules := append(DefaultRules(p), extraRules(20)...)
	e := mustEngine(t, p, rules)
	inputs := make([]Input, 50)
	want := make([]Evaluation, len(inputs))
	for i := range inputs {
		in := sampleInput()
		in.Features["declined_payments_24h"] = i % 5
		in.Features["ips_24h"] = i % 9
		in.Features["ip_vpn"] = i%3 == 0
		in.Features["active_orders"] = i % 7
		in.Features["dispute_ratio"] = float64(i%4) / 4
		in.Event["attributes"] = map[string]any{"amount": float64(i * 40), "tags": []any{"x", fmt.Sprint(i)}}
		inputs[i] = in
		want[i] = e.Evaluate(in)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			for round := range 20 {
				for i := range inputs {
					j := (i + g + round) % len(inputs)
					if got := e.Evaluate(inputs[j]); !reflect.DeepEqual(got, want[j]) {
						errs <- fmt.Sprintf("goroutine %d, input %d: got %+v, want %+v", g, j, got, want[j])
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
}

func TestEngineRulesAndProgram(t *testing.T) {
	p := standing.DefaultPolicy()
	rules := DefaultRules(p)
	e := mustEngine(t, p, rules)
	if !reflect.DeepEqual(e.Rules(), rules) {
		t.Error("Rules() differs from the rules given")
	}
	prg, ok := e.Program(RuleCheckoutBurst)
	if !ok || prg.Rule().ID != RuleCheckoutBurst || prg.EstimatedCost() == 0 {
		t.Errorf("Program(%q) = %v, %v", RuleCheckoutBurst, prg, ok)
	}
	if _, ok := e.Program("nope"); ok {
		t.Error("Program found a rule that does not exist")
	}
}

// FuzzCompile checks that no expression text makes Compile or Eval panic or hang, that
// every compile error is an invalid-expression error with a position, and that every
// evaluation error is an invalid-expression error.
func FuzzCompile(f *testing.F) {
	p := standing.DefaultPolicy()
	for _, r := range DefaultRules(p) {
		f.Add(r.Expression)
	}
	for _, s := range []string{
		"", "true", "features.ip_vpn", "event.type == ", "(((((", "event.attributes.items.all(x, x > 0)",
		"[1,2,3].map(a, [1,2,3].map(b, [1,2,3].map(c, a*b*c))).size() > 0", "'a' + 1 > 0",
		"features['ips_24h'] > 1 || event.attributes['k'].x == 'y'", "has(event.attributes.a.b)",
		"event.time > timestamp('2026-01-01T00:00:00Z')", "1 / 0 == 1", "event.ip.matches('^10\\\\.')",
		"size(event.attributes) > 2 ? true : false", "!features.ip_tor && features.dispute_ratio > 0.5",
		"features.nope", "event.attributes.tags.exists(event, event == 'gift')", "\x00", "«»",
		"dyn(1) == 1u", "int(event.asn) > 1", "string(features.orders_1h) == '0'",
	} {
		f.Add(s)
	}
	in := sampleInput()
	f.Fuzz(func(t *testing.T, expr string) {
		prg, err := Compile(Rule{ID: "fuzz", Expression: expr})
		if err != nil {
			var se *standing.Error
			if !errors.As(err, &se) || se.Code != standing.EINVALID || se.Field != "expression" || !strings.HasPrefix(se.Message, "line ") {
				t.Fatalf("Compile(%q) error = %#v; want an invalid expression error with a position", expr, err)
			}
			return
		}
		_, err = prg.Eval(in)
		if err != nil {
			var se *standing.Error
			if !errors.As(err, &se) || se.Code != standing.EINVALID || se.Field != "expression" {
				t.Fatalf("Eval(%q) error = %#v; want an invalid expression error", expr, err)
			}
		}
	})
}

// extraRules returns n rules of the shapes operators write, to measure an engine larger
// than the default pack.
func extraRules(n int) []Rule {
	shapes := []string{
		`event.type == "order_placed" && features.orders_24h >= %d`,
		`features.ips_30d > %d && features.new_device`,
		`account.role == "buyer" && features.account_age_days < %d.0 && event.type in ["order_placed", "payment_declined"]`,
		`has(event.attributes.amount) && event.attributes.amount > %d.0 && features.country_changed`,
		`event.country != account.country && features.login_failures_1h >= %d`,
		`event.type == "login_failed" && features.login_failures_1h > %d && features.ip_hosting`,
		`features.devices_30d >= %d && (features.ip_proxy || features.ip_tor)`,
		`event.type == "order_placed" && has(event.attributes.tags) && event.attributes.tags.exists(t, t == "gift_card") && features.orders_1h > %d`,
	}
	rules := make([]Rule, n)
	for i := range rules {
		rules[i] = Rule{
			ID: fmt.Sprintf("extra_%d", i), Name: fmt.Sprintf("Extra %d", i), Version: 1, Enabled: true,
			Expression: fmt.Sprintf(shapes[i%len(shapes)], 3+i%7),
			Outcome:    Outcome{Score: 1 + i%10},
			Mode:       []Mode{ModeActive, ModeShadow}[i%2],
		}
	}
	return rules
}

func BenchmarkRule(b *testing.B) {
	for _, bc := range []struct{ name, expr string }{
		{"comparison", "features.declined_payments_24h >= 3"},
		{"typical", `event.type == "order_placed" && account.role == "buyer" && features.orders_1h >= 10`},
		{"with_loop", `event.type == "order_placed" && event.attributes.tags.exists(t, t == "gift_card")`},
	} {
		prg := mustCompile(b, bc.expr)
		v := prepare(sampleInput(), prg.needs)
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := prg.eval(v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEngine(b *testing.B) {
	p := standing.DefaultPolicy()
	var st FeatureState
	for i := range 40 {
		st.Apply(ev(fmt.Sprint("e", i), []string{EventLoginSucceeded, EventOrderPlaced, EventPaymentDeclined}[i%3],
			ago(time.Duration(40-i)*time.Hour), fromIP(fmt.Sprintf("10.0.0.%d", i%4)), fromDevice("d1"), inCountry("DE")))
	}
	features := FeaturesAt(&st, Facts{AccountCreatedAt: ago(400 * time.Hour), ActiveOrders: 3, OpenDisputes: 1}, t0)
	in := NewInput(ev("now", EventOrderPlaced, t0, fromIP("10.0.0.1"), fromDevice("d1"), inCountry("DE")),
		standing.Account{ID: "acc_1", Role: standing.RoleBuyer, Lifecycle: standing.LifecycleActive, Country: "DE", CreatedAt: ago(400 * time.Hour)},
		features)
	in.Event["attributes"] = map[string]any{"amount": 120.0, "tags": []any{"shoes", "sale"}}
	for _, bc := range []struct {
		name  string
		rules []Rule
	}{
		{"default_pack", DefaultRules(p)},
		{"default_pack_plus_50", append(DefaultRules(p), extraRules(50)...)},
	} {
		e := mustEngine(b, p, bc.rules)
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				e.Evaluate(in)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(bc.rules)), "ns/rule")
		})
	}
}
