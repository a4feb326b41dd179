// Package rules is Standing's risk engine: per-account behavioural features kept up to date
// one event at a time (FeatureState), rules written in CEL over the event, the account and
// its features (Rule, Compile, Program), an Engine that evaluates every enabled rule for an
// event and explains why each one fired, and the default rule pack (DefaultRules) that
// covers the rule-driven triggers of the reason catalog.
//
// A rule's expression sees three variables, each a map from string to a dynamic value:
//
//	event     id, type, account_id, time (timestamp), ip (string, "" when unknown),
//	          device_id, country, asn (int), attributes (map)
//	account   id, role ("buyer" | "seller"), lifecycle, country, created_at (timestamp),
//	          email_verified (bool)
//	features  the names Features lists, e.g. features.declined_payments_24h >= 3
//
// Compile refuses a reference to a field or feature that does not exist, so a typo is an
// error with its position rather than a rule that silently never fires. Custom signals go
// in event.attributes, which may hold anything.
package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"

	"standing"
)

// Limits on rule expressions.
const (
	// MaxExpressionLength is the longest expression accepted, in bytes.
	MaxExpressionLength = 8 << 10
	// MaxEstimatedCost is the highest worst-case cost Compile accepts. A comparison costs
	// about 1; a loop over a list costs its length times its body. The estimate assumes
	// lists and maps of unknown size (event.attributes values) hold up to 100 elements and
	// strings up to 1 KB, so one loop over such a list passes and two nested ones do not.
	MaxEstimatedCost = 10_000
	// MaxRuntimeCost stops an evaluation of an expression with loops that runs past it,
	// whatever the estimate said (inputs may be larger than the estimate assumed). It is
	// about a millisecond or two of work.
	MaxRuntimeCost = 20_000

	assumedElements    = 100
	assumedStringBytes = 1 << 10
)

// Mode says whether a rule's outcome is carried out.
type Mode string

// The modes. A shadow rule is evaluated and reported, but its outcome is not carried out.
const (
	ModeActive Mode = "active"
	ModeShadow Mode = "shadow"
)

// Valid reports whether m is a known mode.
func (m Mode) Valid() bool { return m == ModeActive || m == ModeShadow }

// Rule is a named, versioned CEL expression over event, account and features, with the
// outcome carried out when it evaluates to true.
type Rule struct {
	ID          string  `json:"id" yaml:"id"`
	Name        string  `json:"name" yaml:"name"`
	Description string  `json:"description" yaml:"description"`
	Expression  string  `json:"expression" yaml:"expression"`
	Outcome     Outcome `json:"outcome" yaml:"outcome"`
	Mode        Mode    `json:"mode" yaml:"mode"`
	Version     int     `json:"version" yaml:"version"`
	Enabled     bool    `json:"enabled" yaml:"enabled"`
}

// Outcome is what a fired rule does. Any combination may be set; at least one must be.
type Outcome struct {
	// Score is added to the event's risk score (negative lowers it).
	Score int `json:"score,omitempty" yaml:"score,omitempty"`
	// ReasonCode, when set, restricts the account with that catalog reason for Duration
	// (0 = until lifted, or the reason's default duration where the catalog sets one).
	ReasonCode string            `json:"reason_code,omitempty" yaml:"reason_code,omitempty"`
	Duration   standing.Duration `json:"duration,omitempty" yaml:"duration,omitempty"`
	// CloseOpenOrders closes every open order of the account (status closed_by_risk).
	CloseOpenOrders bool `json:"close_open_orders,omitempty" yaml:"close_open_orders,omitempty"`
	// CloseEventOrder closes only the order the event is about (event.attributes.order_id),
	// as a flagged recipient name does.
	CloseEventOrder bool `json:"close_event_order,omitempty" yaml:"close_event_order,omitempty"`
	// RequirePaymentVerification restricts the account with the payment_verification reason.
	RequirePaymentVerification bool `json:"require_payment_verification,omitempty" yaml:"require_payment_verification,omitempty"`
	// Review sends the account to the reviewers' queue.
	Review bool `json:"review,omitempty" yaml:"review,omitempty"`
}

// MaxScore bounds an outcome's score either way.
const MaxScore = 1000

// ruleReasonsRefused are catalog reasons Standing applies by itself; a rule may not.
var ruleReasonsRefused = map[string]string{
	standing.ReasonEmailUnverified: "it is applied by the verification deadline, not by rules",
	standing.ReasonSelfDeleted:     "it is applied only at the person's own request",
	standing.ReasonFraudConfirmed:  "it is a reviewer's decision; a rule can send the account to review instead",
	standing.ReasonSellerViolation: "it is applied by the seller penalty points, not by rules",
}

// Validate checks the outcome against the policy's reason catalog. Errors are EINVALID and
// name the field (outcome.reason_code, outcome.duration, outcome.score or outcome).
func (o Outcome) Validate(p *standing.Policy) error {
	if o.Score < -MaxScore || o.Score > MaxScore {
		return standing.FieldErrorf(standing.EINVALID, "outcome.score", "score must be between -%d and %d, not %d", MaxScore, MaxScore, o.Score)
	}
	if o.Duration < 0 {
		return standing.FieldErrorf(standing.EINVALID, "outcome.duration", "duration cannot be negative; use 0 for until lifted")
	}
	if o.ReasonCode == "" && o.Duration != 0 {
		return standing.FieldErrorf(standing.EINVALID, "outcome.duration", "a duration needs a reason_code to restrict with")
	}
	if o.ReasonCode != "" {
		if _, ok := p.Reason(o.ReasonCode); !ok {
			return standing.FieldErrorf(standing.EINVALID, "outcome.reason_code", "unknown reason code %q; known: %s", o.ReasonCode, strings.Join(p.ReasonCodes(), ", "))
		}
		if why, refused := ruleReasonsRefused[o.ReasonCode]; refused {
			return standing.FieldErrorf(standing.EINVALID, "outcome.reason_code", "a rule cannot apply reason %q: %s", o.ReasonCode, why)
		}
	}
	if o == (Outcome{}) {
		return standing.FieldErrorf(standing.EINVALID, "outcome", "the outcome does nothing; give a score, a reason_code, close_open_orders, close_event_order, require_payment_verification or review")
	}
	return nil
}

// Validate checks everything about the rule but its expression, which Compile checks.
// Errors are EINVALID and name the field.
func (r *Rule) Validate(p *standing.Policy) error {
	if r.ID == "" || len(r.ID) > 64 || strings.Trim(r.ID, "abcdefghijklmnopqrstuvwxyz0123456789_-") != "" {
		return standing.FieldErrorf(standing.EINVALID, "id", "a rule id is 1-64 lower-case letters, digits, _ and -, not %q", r.ID)
	}
	if strings.TrimSpace(r.Name) == "" {
		return standing.FieldErrorf(standing.EINVALID, "name", "rule %q needs a name", r.ID)
	}
	if len(r.Name) > standing.MaxNameLen {
		return standing.FieldErrorf(standing.EINVALID, "name", "the name is longer than %d characters", standing.MaxNameLen)
	}
	if len(r.Description) > standing.MaxNoteLen {
		return standing.FieldErrorf(standing.EINVALID, "description", "the description is longer than %d characters", standing.MaxNoteLen)
	}
	if !r.Mode.Valid() {
		return standing.FieldErrorf(standing.EINVALID, "mode", "mode must be active or shadow, not %q", r.Mode)
	}
	if r.Version < 0 {
		return standing.FieldErrorf(standing.EINVALID, "version", "version cannot be negative")
	}
	return r.Outcome.Validate(p)
}

// The fields of the event and account variables.
var (
	eventFields = map[string]any{
		"id": "", "type": "", "account_id": "", "time": time.Time{}, "ip": "", "device_id": "",
		"country": "", "asn": 0, "attributes": map[string]any{},
	}
	accountFields = map[string]any{
		"id": "", "role": "", "lifecycle": "", "country": "", "created_at": time.Time{},
		"email_verified": false,
	}
)

// rootDefaults holds, for each variable, the value a missing known field takes.
var rootDefaults = map[string]map[string]any{
	"event": eventFields, "account": accountFields, "features": featureDefaults,
}

// EventVars returns the event variable of a rule for e: every field of the package comment
// filled, attributes never nil.
func EventVars(e Event) map[string]any {
	attrs := e.Attributes
	if attrs == nil {
		attrs = map[string]any{}
	}
	return map[string]any{
		"id": e.ID, "type": e.Type, "account_id": e.AccountID, "time": e.Time.UTC(), "ip": eventIP(&e),
		"device_id": e.DeviceID, "country": e.Country, "asn": int64(e.ASN), "attributes": attrs,
	}
}

// eventIP is the event's IP as rules see it: "" when unknown.
func eventIP(e *Event) string {
	if e.IP.IsValid() {
		return e.IP.Unmap().String()
	}
	return ""
}

// AccountVars returns the account variable of a rule for a.
func AccountVars(a standing.Account) map[string]any {
	return map[string]any{
		"id": a.ID, "role": string(a.Role), "lifecycle": string(a.Lifecycle), "country": a.Country,
		"created_at": a.CreatedAt.UTC(), "email_verified": a.EmailVerifiedAt != nil,
	}
}

// Input is what one evaluation sees. Build the maps with EventVars, AccountVars and
// FeaturesAt (or NewInput). A documented feature or known event or account field missing
// from its map takes its zero value (0, 0.0, false, "", the zero time), so a rule never
// fails for lack of one. Reading an event attribute that is absent (guard it with
// has(event.attributes.x)), or an absent key through a computed index (features[name]), is
// an evaluation error: the rule does not fire and the error says why.
//
// Vector, when set, holds the features instead of Features (which is then not read): the
// busy path fills one with VectorInto rather than a map. Likewise Raw, when set, is the
// event instead of Event: the guards read its fields, and its map (EventVars) is made only
// if a rule gets to CEL.
type Input struct {
	Event    map[string]any
	Account  map[string]any
	Features map[string]any
	Vector   *FeatureVector
	Raw      *Event
}

// eventType returns the type of the input's event.
func (in *Input) eventType() (string, bool) {
	if in.Raw != nil {
		return in.Raw.Type, true
	}
	typ, ok := in.Event["type"].(string)
	return typ, ok
}

// DecodeAttributes decodes an event's attributes, a JSON object, as rules see them: whole
// numbers as int, others as double. The API and backtests decode alike, so a rule
// compares the same values live and in a backtest.
func DecodeAttributes(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		m = map[string]any{}
	}
	return normalizeNumbers(m).(map[string]any), nil
}

// normalizeNumbers turns json.Numbers into int64 where whole and float64 otherwise.
func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeNumbers(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normalizeNumbers(e)
		}
		return x
	}
	return v
}

// NewInput returns the input for an event on an account with the given features.
func NewInput(e Event, a standing.Account, features map[string]any) Input {
	return Input{Event: EventVars(e), Account: AccountVars(a), Features: features}
}

// Value is one field a rule's expression reads and its value in the evaluation.
type Value struct {
	// Name is the field's path: features.ip_vpn, event.type, event.attributes.amount.
	Name  string `json:"name"`
	Value any    `json:"value"`
	// Missing is set when the input did not hold the field and it has no default (an
	// absent event attribute, say).
	Missing bool `json:"missing,omitempty"`
}

// Explanation lists the fields a rule read, in the order the expression names them.
type Explanation []Value

// String writes the explanation as "features.declined_payments_24h = 3, features.ip_vpn =
// true".
func (x Explanation) String() string {
	var b strings.Builder
	for i, v := range x {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(v.Name)
		b.WriteString(" = ")
		switch {
		case v.Missing:
			b.WriteString("(missing)")
		default:
			b.WriteString(formatValue(v.Value))
		}
	}
	return b.String()
}

func formatValue(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

// Result is the outcome of evaluating one rule.
type Result struct {
	Fired bool `json:"fired"`
	// Explanation holds the values of the fields the expression reads, whether it fired
	// or not.
	Explanation Explanation `json:"explanation"`
	// Cost is the evaluation's cost in CEL cost units: measured for expressions with
	// loops, the static worst-case estimate for the others (see Compile).
	Cost uint64 `json:"cost"`
}

// Program is a compiled rule, safe for concurrent use.
type Program struct {
	rule     Rule
	prg      cel.Program
	refs     []path // the fields the expression reads, in source order
	needs    needs  // the known fields among refs, by variable
	estimate uint64
	// types, when not nil, are the only event types the expression can be true for: it
	// requires event.type == "x" or event.type in [...] in a conjunction.
	types []string
	// guards are the conjuncts checked before an evaluation (guard.go).
	guards []guard
}

// path is a chain of constant field names from a variable: ["features", "ip_vpn"].
type path []string

func (p path) String() string { return strings.Join(p, ".") }

// needs lists, per variable, the known fields a program reads.
type needs map[string][]string

func (n needs) add(root, field string) {
	if !slices.Contains(n[root], field) {
		n[root] = append(n[root], field)
	}
}

// Rule returns the rule the program was compiled from.
func (p *Program) Rule() Rule { return p.rule }

// EstimatedCost returns the worst-case cost Compile estimated.
func (p *Program) EstimatedCost() uint64 { return p.estimate }

// References returns the paths of the fields the expression reads, e.g. "features.ip_vpn".
func (p *Program) References() []string {
	out := make([]string, len(p.refs))
	for i, r := range p.refs {
		out[i] = r.String()
	}
	return out
}

// celEnv is the one CEL environment; a cel.Env is safe for concurrent use.
var celEnv = sync.OnceValues(func() (*cel.Env, error) {
	mapType := cel.MapType(cel.StringType, cel.DynType)
	return cel.NewEnv(
		cel.Variable("event", mapType),
		cel.Variable("account", mapType),
		cel.Variable("features", mapType),
		cel.CrossTypeNumericComparisons(true),
		cel.DefaultUTCTimeZone(true),
		cel.ParserExpressionSizeLimit(MaxExpressionLength),
	)
})

// Compile type-checks the rule's expression and prepares it for evaluation. The expression
// must give a bool (an expression of dynamic type, such as features.ip_vpn alone, is
// accepted and must give a bool when evaluated). It must name only known fields and
// features, and its estimated worst-case cost must stay within MaxEstimatedCost.
//
// An expression with loops (all, exists, exists_one, map, filter) is also stopped at run
// time once its cost passes MaxRuntimeCost, since its input may be larger than the
// estimate assumed; one without loops does every operation once and needs no such check.
//
// Every error is a *standing.Error with code EINVALID, field "expression", and a message
// that starts with the line and column of the problem ("line 2, column 7: ...").
func Compile(r Rule) (*Program, error) {
	env, err := celEnv()
	if err != nil {
		return nil, standing.Errorf(standing.EINTERNAL, "the rule environment failed to build: %v", err)
	}
	src := r.Expression
	if strings.TrimSpace(src) == "" {
		return nil, exprError(1, 1, "the expression is empty; write a condition such as features.declined_payments_24h >= 3")
	}
	if len(src) > MaxExpressionLength {
		return nil, exprError(1, 1, "the expression is %d bytes long, over the limit of %d", len(src), MaxExpressionLength)
	}
	checked, iss := env.Compile(src)
	if iss != nil && iss.Err() != nil {
		return nil, issuesError(iss.Errors())
	}
	if t := checked.OutputType(); !t.IsExactType(cel.BoolType) && !t.IsExactType(cel.DynType) {
		return nil, exprError(1, 1, "the expression gives a value of type %s; a rule must give true or false", cel.FormatCELType(t))
	}
	native := checked.NativeRep()
	w := walker{info: native.SourceInfo(), needs: needs{}}
	w.walk(native.Expr(), nil)
	if w.err != nil {
		return nil, w.err
	}
	est, err := env.EstimateCost(checked, estimator{})
	if err != nil {
		return nil, exprError(1, 1, "the cost of the expression cannot be estimated: %v", err)
	}
	if est.Max > MaxEstimatedCost {
		line, col := 1, 1
		if w.deepestLoop != nil {
			line, col = w.location(w.deepestLoop)
		}
		return nil, exprError(line, col, "the expression may cost up to %s, over the limit of %d; avoid loops inside loops (all, exists, map, filter) and loops over long lists", costString(est.Max), MaxEstimatedCost)
	}
	// Only a loop can make the work grow faster than the input, so only expressions with
	// loops pay for the runtime cost tracker (it makes an evaluation about four times slower).
	// Without loops every operation runs once, and the work is bounded by the expression's
	// length times the size of the input.
	opts := []cel.ProgramOption{cel.EvalOptions(cel.OptOptimize)}
	if w.loopHeight > 0 {
		opts = append(opts, cel.CostLimit(MaxRuntimeCost))
	}
	prg, err := env.Program(checked, opts...)
	if err != nil {
		return nil, exprError(1, 1, "the expression cannot be prepared: %v", err)
	}
	return &Program{rule: r, prg: prg, refs: w.refs, needs: w.needs, estimate: est.Max, types: guardTypes(native.Expr()),
		guards: guardsOf(native.Expr())}, nil
}

func costString(c uint64) string {
	if c >= 1<<62 {
		return "an unbounded amount"
	}
	return strconv.FormatUint(c, 10)
}

// exprError returns the error of an expression problem at a 1-based line and column.
func exprError(line, col int, format string, args ...any) *standing.Error {
	return standing.FieldErrorf(standing.EINVALID, "expression", "line %d, column %d: %s", line, col, fmt.Sprintf(format, args...))
}

// issuesError turns CEL's parse and check issues into one error naming each position.
func issuesError(errs []*cel.Error) *standing.Error {
	if len(errs) == 0 {
		return exprError(1, 1, "the expression does not compile")
	}
	parts := make([]string, 0, len(errs))
	for _, e := range errs {
		line, col := 1, 1
		if e.Location != nil && e.Location.Line() > 0 {
			line, col = e.Location.Line(), e.Location.Column()+1
		}
		parts = append(parts, fmt.Sprintf("line %d, column %d: %s", line, col, e.Message))
		if len(parts) == 5 {
			break
		}
	}
	return standing.FieldErrorf(standing.EINVALID, "expression", "%s", strings.Join(parts, "; "))
}

// guardTypes returns the event types an expression can be true for, when it says so in a
// way that needs no evaluation: event.type == "x", event.type in ["x", "y"], a conjunction
// with such a guard on either side, or a disjunction of guarded sides. nil means any type.
// A rule whose guard excludes an event's type gives false for it (&& is false whenever a
// side is, even if the other side fails), so the engine may skip it.
func guardTypes(e ast.Expr) []string {
	if e.Kind() != ast.CallKind {
		return nil
	}
	c := e.AsCall()
	args := c.Args()
	isType := func(x ast.Expr) bool {
		p, ok := chain(x, nil)
		return ok && len(p) == 2 && p[0] == "event" && p[1] == "type"
	}
	lit := func(x ast.Expr) (string, bool) {
		if x.Kind() != ast.LiteralKind {
			return "", false
		}
		v, ok := x.AsLiteral().(types.String)
		return string(v), ok
	}
	switch c.FunctionName() {
	case operators.LogicalAnd:
		if len(args) == 2 {
			l, r := guardTypes(args[0]), guardTypes(args[1])
			switch {
			case l == nil:
				return r
			case r == nil:
				return l
			}
			var both []string
			for _, t := range l {
				if slices.Contains(r, t) {
					both = append(both, t)
				}
			}
			if both == nil {
				both = []string{}
			}
			return both
		}
	case operators.LogicalOr:
		if len(args) == 2 {
			l, r := guardTypes(args[0]), guardTypes(args[1])
			if l == nil || r == nil {
				return nil
			}
			out := slices.Clone(l)
			for _, t := range r {
				if !slices.Contains(out, t) {
					out = append(out, t)
				}
			}
			return out
		}
	case operators.Equals:
		if len(args) == 2 {
			if v, ok := lit(args[1]); ok && isType(args[0]) {
				return []string{v}
			}
			if v, ok := lit(args[0]); ok && isType(args[1]) {
				return []string{v}
			}
		}
	case operators.In:
		if len(args) == 2 && isType(args[0]) && args[1].Kind() == ast.ListKind {
			out := []string{}
			for _, el := range args[1].AsList().Elements() {
				v, ok := lit(el)
				if !ok {
					return nil
				}
				out = append(out, v)
			}
			return out
		}
	}
	return nil
}

// walker collects the fields an expression reads and refuses unknown ones.
type walker struct {
	info  *ast.SourceInfo
	refs  []path
	needs needs
	err   *standing.Error
	// deepestLoop is the outermost loop of the deepest nest of loops, where a cost error
	// points.
	deepestLoop ast.Expr
	loopHeight  int
}

// location returns the 1-based line and column of e. A field selection starts at its dot;
// it is reported at the field name after it.
func (w *walker) location(e ast.Expr) (line, col int) {
	loc := w.info.GetStartLocation(e.ID())
	if loc == common.NoLocation || loc.Line() < 1 {
		return 1, 1
	}
	col = loc.Column() + 1
	if e.Kind() == ast.SelectKind {
		col++
	}
	return loc.Line(), col
}

// chain returns the variable and constant field names e reads, when e is a chain of field
// selections or constant-string indexes on a variable not shadowed by a loop variable.
func chain(e ast.Expr, shadowed []string) (path, bool) {
	switch e.Kind() {
	case ast.IdentKind:
		name := e.AsIdent()
		if _, ok := rootDefaults[name]; ok && !slices.Contains(shadowed, name) {
			return path{name}, true
		}
	case ast.SelectKind:
		s := e.AsSelect()
		if p, ok := chain(s.Operand(), shadowed); ok {
			return append(p, s.FieldName()), true
		}
	case ast.CallKind:
		c := e.AsCall()
		if c.FunctionName() == operators.Index && len(c.Args()) == 2 && c.Args()[1].Kind() == ast.LiteralKind {
			if key, ok := c.Args()[1].AsLiteral().(types.String); ok {
				if p, ok := chain(c.Args()[0], shadowed); ok {
					return append(p, string(key)), true
				}
			}
		}
	}
	return nil, false
}

// walk visits e and returns the height of the deepest nest of loops in it.
func (w *walker) walk(e ast.Expr, shadowed []string) int {
	if w.err != nil || e == nil {
		return 0
	}
	if p, ok := chain(e, shadowed); ok && len(p) > 1 {
		w.use(e, p)
		return 0
	}
	h := 0
	visit := func(e ast.Expr, shadowed []string) { h = max(h, w.walk(e, shadowed)) }
	switch e.Kind() {
	case ast.SelectKind:
		visit(e.AsSelect().Operand(), shadowed)
	case ast.CallKind:
		c := e.AsCall()
		if c.IsMemberFunction() {
			visit(c.Target(), shadowed)
		}
		for _, a := range c.Args() {
			visit(a, shadowed)
		}
	case ast.ListKind:
		for _, el := range e.AsList().Elements() {
			visit(el, shadowed)
		}
	case ast.MapKind:
		for _, en := range e.AsMap().Entries() {
			if en.Kind() == ast.MapEntryKind {
				visit(en.AsMapEntry().Key(), shadowed)
				visit(en.AsMapEntry().Value(), shadowed)
			}
		}
	case ast.StructKind:
		for _, f := range e.AsStruct().Fields() {
			if f.Kind() == ast.StructFieldKind {
				visit(f.AsStructField().Value(), shadowed)
			}
		}
	case ast.ComprehensionKind:
		c := e.AsComprehension()
		visit(c.IterRange(), shadowed)
		visit(c.AccuInit(), shadowed)
		visit(c.Result(), append(slices.Clip(shadowed), c.AccuVar()))
		inner := append(slices.Clip(shadowed), c.IterVar(), c.AccuVar())
		if c.HasIterVar2() {
			inner = append(inner, c.IterVar2())
		}
		body := max(w.walk(c.LoopCondition(), inner), w.walk(c.LoopStep(), inner))
		h = max(h, body+1)
		if body+1 > w.loopHeight {
			w.deepestLoop, w.loopHeight = e, body+1
		}
	}
	return h
}

// use records that the expression reads p, after checking that p names a known field.
func (w *walker) use(e ast.Expr, p path) {
	root, field := p[0], p[1]
	if _, known := rootDefaults[root][field]; !known {
		line, col := w.location(e)
		switch root {
		case "features":
			w.err = exprError(line, col, "there is no feature %q%s; Features lists them all, and custom signals go in event.attributes", field, suggest(field, rootDefaults[root]))
		default:
			w.err = exprError(line, col, "%s has no field %q%s; it has %s", root, field, suggest(field, rootDefaults[root]), strings.Join(sortedKeys(rootDefaults[root]), ", "))
		}
		return
	}
	w.needs.add(root, field)
	if !slices.ContainsFunc(w.refs, func(q path) bool { return slices.Equal(q, p) }) {
		w.refs = append(w.refs, slices.Clone(p))
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// suggest returns ` (did you mean "x"?)` for the known name closest to name, if close.
func suggest(name string, known map[string]any) string {
	best, bestD := "", 4
	for k := range known {
		if d := editDistance(name, k); d < bestD || d == bestD && k < best {
			best, bestD = k, d
		}
	}
	if best == "" || bestD > len(name)/3+1 {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the optimal string alignment distance: insertions, deletions,
// substitutions and swaps of neighbours each cost 1, so "tpye" is 1 from "type".
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			d[i][j] = min(d[i-1][j-1]+c, d[i-1][j]+1, d[i][j-1]+1)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// estimator bounds the sizes the static cost estimate cannot know: every list or map of
// unknown size holds up to assumedElements elements and every string up to
// assumedStringBytes bytes.
type estimator struct{}

func (estimator) EstimateCallCost(string, string, *cost.AstNode, []cost.AstNode) *cost.CallEstimate {
	return nil
}

func (estimator) EstimateSize(n cost.AstNode) *cost.SizeEstimate {
	if n.ComputedSize() != nil {
		return nil
	}
	var s cost.SizeEstimate
	if t := n.Type(); t != nil && (t.IsExactType(cel.StringType) || t.IsExactType(cel.BytesType)) {
		s = cost.RangedSizeEstimate(0, assumedStringBytes)
	} else {
		s = cost.RangedSizeEstimate(0, assumedElements)
	}
	return &s
}

// activation hands the three prepared variables to CEL.
type activation struct {
	event, account, features ref.Val
}

func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case "event":
		return a.event, true
	case "account":
		return a.account, true
	case "features":
		return a.features, true
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }

// prepared is an input with its missing known fields filled and converted for CEL once,
// to be shared by every rule evaluated on it.
type prepared struct {
	event, account, features map[string]any
	vector                   *FeatureVector // the features, when the input gave a vector
	act                      activation
}

// vars returns the map of the variable root.
func (v *prepared) vars(root string) map[string]any {
	switch root {
	case "event":
		return v.event
	case "account":
		return v.account
	}
	return v.features
}

// prepare fills the known fields the programs need that in lacks.
func prepare(in Input, n needs) *prepared {
	fill := func(root string, m map[string]any) map[string]any {
		if m == nil {
			m = map[string]any{}
		}
		copied := false
		for _, f := range n[root] {
			if _, ok := m[f]; ok {
				continue
			}
			if !copied {
				m, copied = clone(m), true
			}
			m[f] = rootDefaults[root][f]
		}
		return m
	}
	event := in.Event
	if in.Raw != nil {
		event = EventVars(*in.Raw)
	}
	v := &prepared{
		event:   fill("event", event),
		account: fill("account", in.Account),
		vector:  in.Vector,
	}
	adapter := types.DefaultTypeAdapter
	v.act = activation{
		event:   adapter.NativeToValue(v.event),
		account: adapter.NativeToValue(v.account),
	}
	if in.Vector != nil {
		v.act.features = &vectorVal{vec: in.Vector}
	} else {
		v.features = fill("features", in.Features)
		v.act.features = adapter.NativeToValue(v.features)
	}
	return v
}

// Eval evaluates the rule on one input. A rule that fails to evaluate (a value of the wrong
// type, the runtime cost limit, a result that is not a bool) does not fire, and the error
// is a *standing.Error with code EINVALID and field "expression" that says why.
func (p *Program) Eval(in Input) (Result, error) {
	v := prepare(in, p.needs)
	res, err := p.eval(v)
	res.Explanation = p.explain(v)
	return res, err
}

func (p *Program) eval(v *prepared) (Result, error) {
	out, det, err := p.prg.Eval(&v.act)
	res := Result{Cost: p.estimate}
	if det != nil && det.ActualCost() != nil {
		res.Cost = *det.ActualCost()
	}
	if err != nil {
		var cancelled interpreter.EvalCancelledError
		if errors.As(err, &cancelled) && cancelled.Cause == interpreter.CostLimitExceeded {
			return res, standing.FieldErrorf(standing.EINVALID, "expression", "rule %q was stopped: its evaluation cost more than the limit of %d", p.rule.ID, MaxRuntimeCost)
		}
		return res, standing.FieldErrorf(standing.EINVALID, "expression", "rule %q failed to evaluate: %v", p.rule.ID, err)
	}
	b, ok := out.(types.Bool)
	if !ok {
		return res, standing.FieldErrorf(standing.EINVALID, "expression", "rule %q gave %s, not true or false", p.rule.ID, out.Type().TypeName())
	}
	res.Fired = bool(b)
	return res, nil
}

// explain looks up the value of every field the expression reads.
func (p *Program) explain(v *prepared) Explanation {
	x := make(Explanation, 0, len(p.refs))
	for _, r := range p.refs {
		var val any
		var ok bool
		if r[0] == "features" && v.vector != nil {
			val, ok = v.vector.Get(r[1])
		} else {
			val, ok = lookup(v.vars(r[0]), r[1:])
		}
		x = append(x, Value{Name: r.String(), Value: val, Missing: !ok})
	}
	return x
}

// lookup follows keys through nested maps.
func lookup(m map[string]any, keys []string) (any, bool) {
	var cur any = m
	for _, k := range keys {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = mm[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// Engine evaluates a set of compiled rules. It is immutable and safe for concurrent use;
// to change the rules or the policy, build a new Engine and swap it in.
type Engine struct {
	policy *standing.Policy
	progs  []*Program
	needs  needs
	// byType holds, for each event type some rule guards on, the enabled programs that
	// can fire for it, in engine order; anyType the enabled programs with no guard, for
	// the other types.
	byType  map[string][]*Program
	anyType []*Program
	slots   guardSlots
}

// NewEngine validates and compiles the rules against the policy. Disabled rules are
// checked too but never evaluated. An error names the rule and the field at fault as
// rules[i].field.
func NewEngine(p *standing.Policy, rules []Rule) (*Engine, error) {
	e := &Engine{policy: p, needs: needs{}}
	ids := map[string]int{}
	for i, r := range rules {
		wrap := func(err error) error {
			var se *standing.Error
			if errors.As(err, &se) {
				return standing.FieldErrorf(se.Code, fmt.Sprintf("rules[%d].%s", i, se.Field), "rule %q: %s", r.ID, se.Message)
			}
			return err
		}
		if err := r.Validate(p); err != nil {
			return nil, wrap(err)
		}
		if j, dup := ids[r.ID]; dup {
			return nil, standing.FieldErrorf(standing.EINVALID, fmt.Sprintf("rules[%d].id", i), "rule id %q is used by rules[%d] too", r.ID, j)
		}
		ids[r.ID] = i
		prg, err := Compile(r)
		if err != nil {
			return nil, wrap(err)
		}
		e.slots.add(prg)
		e.progs = append(e.progs, prg)
		if r.Enabled {
			for root, fields := range prg.needs {
				for _, f := range fields {
					e.needs.add(root, f)
				}
			}
		}
	}
	e.byType = map[string][]*Program{}
	for _, p := range e.progs {
		for _, t := range p.types {
			e.byType[t] = nil
		}
	}
	for _, p := range e.progs {
		if !p.rule.Enabled {
			continue
		}
		if p.types == nil {
			e.anyType = append(e.anyType, p)
		}
		for t := range e.byType {
			if p.types == nil || slices.Contains(p.types, t) {
				e.byType[t] = append(e.byType[t], p)
			}
		}
	}
	return e, nil
}

// Rules returns the engine's rules in order.
func (e *Engine) Rules() []Rule {
	out := make([]Rule, len(e.progs))
	for i, p := range e.progs {
		out[i] = p.rule
	}
	return out
}

// Program returns the compiled rule with the id.
func (e *Engine) Program(id string) (*Program, bool) {
	for _, p := range e.progs {
		if p.rule.ID == id {
			return p, true
		}
	}
	return nil, false
}

// Fired is one rule that fired, with the values that made it fire.
type Fired struct {
	RuleID      string      `json:"rule_id"`
	Name        string      `json:"name"`
	Version     int         `json:"version"`
	Mode        Mode        `json:"mode"`
	Outcome     Outcome     `json:"outcome"`
	Explanation Explanation `json:"explanation"`
}

// RuleError is a rule that failed to evaluate; it counts as not fired.
type RuleError struct {
	RuleID  string `json:"rule_id"`
	Version int    `json:"version"`
	Message string `json:"message"`
}

// Evaluation is the result of evaluating every enabled rule on one input.
type Evaluation struct {
	// Active and Shadow hold the fired rules of each mode, in the engine's order.
	Active []Fired `json:"active"`
	Shadow []Fired `json:"shadow"`
	// Score is the sum of the active fired rules' scores; ShadowScore what the shadow
	// rules would add.
	Score       int `json:"score"`
	ShadowScore int `json:"shadow_score"`
	// Actions merges the outcomes of the active fired rules.
	Actions Actions `json:"actions"`
	// Errors lists the rules that failed to evaluate and outcomes that were skipped.
	Errors []RuleError `json:"errors,omitempty"`
}

// Actions is what the active fired rules ask for, merged.
type Actions struct {
	// Restrictions holds one entry per reason code.
	Restrictions    []RestrictionAction `json:"restrictions,omitempty"`
	CloseOpenOrders bool                `json:"close_open_orders,omitempty"`
	CloseEventOrder bool                `json:"close_event_order,omitempty"`
	Review          bool                `json:"review,omitempty"`
}

// RestrictionAction is a restriction to add and the rules that asked for it. Duration 0
// means until lifted; when several rules ask for one reason, the longest duration wins and
// until-lifted beats any duration.
type RestrictionAction struct {
	ReasonCode string            `json:"reason_code"`
	Duration   standing.Duration `json:"duration,omitempty"`
	RuleIDs    []string          `json:"rule_ids"`
}

// Evaluate evaluates every enabled rule on the input and returns those that fired, split by
// mode, with their explanations, the score and the merged actions. A rule that fails to
// evaluate is listed in Errors and does not stop the others. A restriction whose reason
// does not apply to the account's role (account.role) is left out of Actions and noted in
// Errors.
func (e *Engine) Evaluate(in Input) Evaluation {
	var v *prepared // made for the first rule its guards do not rule out
	var ev Evaluation
	var buf [32]any
	var looked [32]uint8
	slots := newSlotValues(&e.slots, &in, buf[:0], looked[:0])
	progs := e.anyType
	if typ, ok := in.eventType(); ok {
		if list, guarded := e.byType[typ]; guarded {
			progs = list
		}
	}
	for _, p := range progs {
		if slots.fail(p) {
			continue
		}
		if v == nil {
			v = prepare(in, e.needs)
		}
		res, err := p.eval(v)
		if err != nil {
			ev.Errors = append(ev.Errors, RuleError{RuleID: p.rule.ID, Version: p.rule.Version, Message: standing.ErrorMessage(err)})
			continue
		}
		if !res.Fired {
			continue
		}
		f := Fired{RuleID: p.rule.ID, Name: p.rule.Name, Version: p.rule.Version, Mode: p.rule.Mode, Outcome: p.rule.Outcome, Explanation: p.explain(v)}
		if p.rule.Mode == ModeShadow {
			ev.Shadow = append(ev.Shadow, f)
			ev.ShadowScore += f.Outcome.Score
			continue
		}
		ev.Active = append(ev.Active, f)
		ev.Score += f.Outcome.Score
		e.addActions(&ev, f, v.account["role"])
	}
	return ev
}

// addActions merges the outcome of an active fired rule into ev.Actions.
func (e *Engine) addActions(ev *Evaluation, f Fired, role any) {
	o := f.Outcome
	a := &ev.Actions
	a.CloseOpenOrders = a.CloseOpenOrders || o.CloseOpenOrders
	a.CloseEventOrder = a.CloseEventOrder || o.CloseEventOrder
	a.Review = a.Review || o.Review
	restrict := func(code string, d standing.Duration) {
		if r, ok := e.policy.Reason(code); ok {
			if roleName, _ := role.(string); roleName != "" && !r.AppliesToRole(standing.Role(roleName)) {
				ev.Errors = append(ev.Errors, RuleError{RuleID: f.RuleID, Version: f.Version,
					Message: fmt.Sprintf("reason %q applies to %s accounts and this account is a %s; the restriction was left out", code, r.AppliesTo, roleName)})
				return
			}
		}
		for i := range a.Restrictions {
			x := &a.Restrictions[i]
			if x.ReasonCode == code {
				if x.Duration != 0 && (d == 0 || d > x.Duration) {
					x.Duration = d
				}
				x.RuleIDs = append(x.RuleIDs, f.RuleID)
				return
			}
		}
		a.Restrictions = append(a.Restrictions, RestrictionAction{ReasonCode: code, Duration: d, RuleIDs: []string{f.RuleID}})
	}
	if o.ReasonCode != "" {
		restrict(o.ReasonCode, o.Duration)
	}
	if o.RequirePaymentVerification {
		restrict(standing.ReasonPaymentVerification, 0)
	}
}
