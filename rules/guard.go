package rules

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
)

// A guard is a conjunct of a rule's expression simple enough to check without CEL: a field
// compared with a literal (features.ips_24h >= 5, account.role == "buyer",
// event.attributes.amount > 100), a bool field alone or negated (features.new_device,
// !features.ip_vpn), or a disjunction whose every side has such guards
// (features.ip_vpn || features.ip_tor). When a guard is false the rule is false, whatever
// its other conjuncts give — CEL's && is false when either side is, even when the other
// fails, and || is false only when both sides are — so the engine skips the evaluation.
// Most rules are false for most events, and a guard costs a map lookup where an
// evaluation costs the interpreter's setup and a walk of the expression.
//
// A guard decides only when the value has the literal's own kind (an int compared with an
// int literal, a double with a double, a string with a string, a bool); a missing value,
// another kind or a NaN leaves the decision to CEL, whose cross-type comparisons it does
// not repeat.
type guard struct {
	path path   // the field: a variable and one or more constant field names
	op   string // an operators name; "" for a bool field alone, operators.LogicalNot negated
	lit  any    // int64, float64, string or bool; nil for a bool field
	slot int    // the engine's slot of path (guardSlots); -1 outside an engine
	// anyOf, when not nil, makes the guard a disjunction (path, op and lit unused): each
	// element is the guards of one side, and the guard fails when every side has one that
	// fails.
	anyOf [][]guard
}

// String writes the guard as CEL, for tests and messages.
func (g guard) String() string {
	if g.anyOf != nil {
		sides := make([]string, len(g.anyOf))
		for i, side := range g.anyOf {
			parts := make([]string, len(side))
			for j, s := range side {
				parts[j] = s.String()
			}
			sides[i] = strings.Join(parts, " && ")
		}
		return "(" + strings.Join(sides, " || ") + ")"
	}
	switch g.op {
	case "":
		return g.path.String()
	case operators.LogicalNot:
		return "!" + g.path.String()
	}
	op, _ := operators.FindReverseBinaryOperator(g.op)
	var lit string
	switch v := g.lit.(type) {
	case string:
		lit = strconv.Quote(v)
	case float64:
		lit = strconv.FormatFloat(v, 'g', -1, 64)
		if !strings.ContainsAny(lit, ".eEnN") {
			lit += ".0"
		}
	default:
		lit = fmt.Sprint(v)
	}
	return g.path.String() + " " + op + " " + lit
}

// guardsOf returns the guards among the conjuncts of e's top-level conjunction.
func guardsOf(e ast.Expr) []guard {
	var out []guard
	var visit func(e ast.Expr)
	visit = func(e ast.Expr) {
		if e.Kind() == ast.CallKind && e.AsCall().FunctionName() == operators.LogicalAnd && len(e.AsCall().Args()) == 2 {
			visit(e.AsCall().Args()[0])
			visit(e.AsCall().Args()[1])
			return
		}
		if g, ok := guardOf(e); ok {
			out = append(out, g)
		}
	}
	visit(e)
	return out
}

// flipped is the operator with its sides swapped: 3 < x is x > 3.
var flipped = map[string]string{
	operators.Less: operators.Greater, operators.LessEquals: operators.GreaterEquals,
	operators.Greater: operators.Less, operators.GreaterEquals: operators.LessEquals,
	operators.Equals: operators.Equals, operators.NotEquals: operators.NotEquals,
}

// guardOf returns e as a guard, if it is one.
func guardOf(e ast.Expr) (guard, bool) {
	field := func(x ast.Expr) (path, bool) {
		if x.Kind() == ast.SelectKind && x.AsSelect().IsTestOnly() {
			return nil, false // has(features.x) tests presence, not the value
		}
		p, ok := chain(x, nil)
		return p, ok && len(p) >= 2
	}
	if p, ok := field(e); ok {
		return guard{path: p, slot: -1}, true
	}
	if e.Kind() != ast.CallKind {
		return guard{}, false
	}
	c := e.AsCall()
	args := c.Args()
	switch {
	case c.FunctionName() == operators.LogicalNot && len(args) == 1:
		if p, ok := field(args[0]); ok {
			return guard{path: p, op: operators.LogicalNot, slot: -1}, true
		}
		return guard{}, false
	case c.FunctionName() == operators.LogicalOr && len(args) == 2:
		// Each side's own disjunctions are flattened into this one.
		var sides [][]guard
		for _, side := range args {
			gs := guardsOf(side)
			if len(gs) == 0 {
				return guard{}, false // a side that cannot be ruled out: the disjunction neither
			}
			if len(gs) == 1 && gs[0].anyOf != nil {
				sides = append(sides, gs[0].anyOf...)
			} else {
				sides = append(sides, gs)
			}
		}
		return guard{anyOf: sides, slot: -1}, true
	}
	op, ok := flipped[c.FunctionName()]
	if !ok || len(args) != 2 {
		return guard{}, false
	}
	literal := func(x ast.Expr) (any, bool) {
		if x.Kind() != ast.LiteralKind {
			return nil, false
		}
		switch v := x.AsLiteral().(type) {
		case types.Int:
			return int64(v), true
		case types.Double:
			return float64(v), !math.IsNaN(float64(v))
		case types.String:
			return string(v), true
		case types.Bool:
			return bool(v), true
		}
		return nil, false
	}
	if p, ok := field(args[0]); ok {
		if lit, ok := literal(args[1]); ok {
			return guard{path: p, op: c.FunctionName(), lit: lit, slot: -1}, true
		}
	}
	if p, ok := field(args[1]); ok {
		if lit, ok := literal(args[0]); ok {
			return guard{path: p, op: op, lit: lit, slot: -1}, true
		}
	}
	return guard{}, false
}

// failsOn reports whether the guard, not a disjunction, is certainly false for the
// field's value v.
func (g *guard) failsOn(v any) bool {
	if g.lit == nil {
		b, ok := v.(bool)
		return ok && b == (g.op == operators.LogicalNot)
	}
	var c int
	switch lit := g.lit.(type) {
	case int64:
		switch n := v.(type) {
		case int:
			c = cmp.Compare(int64(n), lit)
		case int64:
			c = cmp.Compare(n, lit)
		default:
			return false
		}
	case float64:
		f, ok := v.(float64)
		if !ok || math.IsNaN(f) {
			return false
		}
		c = cmp.Compare(f, lit)
	case string:
		s, ok := v.(string)
		if !ok {
			return false
		}
		c = cmp.Compare(s, lit)
	case bool:
		b, ok := v.(bool)
		if !ok {
			return false
		}
		if b == lit {
			c = 0
		} else {
			c = 1 // only == and != are defined on bools
		}
	}
	switch g.op {
	case operators.Equals:
		return c != 0
	case operators.NotEquals:
		return c == 0
	}
	if _, isBool := g.lit.(bool); isBool {
		return false // an ordering of bools: left to CEL
	}
	switch g.op {
	case operators.Less:
		return c >= 0
	case operators.LessEquals:
		return c > 0
	case operators.Greater:
		return c <= 0
	case operators.GreaterEquals:
		return c < 0
	}
	return false
}

// fieldValue looks the path up in the input's maps.
func fieldValue(in *Input, p path) (any, bool) {
	var m map[string]any
	switch p[0] {
	case "features":
		if in.Vector != nil {
			return in.Vector.Get(p[1])
		}
		m = in.Features
	case "account":
		m = in.Account
	default:
		if in.Raw != nil {
			return rawEventField(in.Raw, p)
		}
		m = in.Event
	}
	return mapField(m, p)
}

// rawEventField is what mapField finds in EventVars(*e), without making the map.
func rawEventField(e *Event, p path) (any, bool) {
	var v any
	switch p[1] {
	case "id":
		v = e.ID
	case "type":
		v = e.Type
	case "account_id":
		v = e.AccountID
	case "device_id":
		v = e.DeviceID
	case "country":
		v = e.Country
	case "asn":
		v = int64(e.ASN)
	case "time":
		v = e.Time.UTC()
	case "ip":
		v = eventIP(e)
	case "attributes":
		if e.Attributes == nil {
			v = map[string]any{}
		} else {
			v = e.Attributes
		}
	default:
		return nil, false
	}
	if len(p) == 2 {
		return v, true
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	return mapField(m, p[1:])
}

// mapField looks the path, after its variable, up in the variable's map m.
func mapField(m map[string]any, p path) (any, bool) {
	for _, k := range p[1 : len(p)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			return nil, false
		}
		m = next
	}
	v, ok := m[p[len(p)-1]]
	return v, ok
}

// guardsFail reports whether one of the program's guards is certainly false for in, outside
// an engine: each field is looked up for each guard.
func (p *Program) guardsFail(in *Input) bool {
	v := slotValues{in: in}
	return v.anyFails(p.guards)
}

// guardSlots numbers the fields the guards of an engine's programs read, so that an
// evaluation looks each up once however many rules guard on it. The programs are the
// engine's own: it sets their guards' slots.
type guardSlots struct {
	paths []path
	// feature holds, for each slot, the place of its feature in a FeatureVector, or -1
	// when it reads event or account.
	feature []int
}

// add gives every guard of p its slot.
func (s *guardSlots) add(p *Program) { s.number(p.guards) }

func (s *guardSlots) number(gs []guard) {
	for i := range gs {
		g := &gs[i]
		if g.anyOf != nil {
			for _, side := range g.anyOf {
				s.number(side)
			}
			continue
		}
		g.slot = slices.IndexFunc(s.paths, func(p path) bool { return slices.Equal(p, g.path) })
		if g.slot < 0 {
			g.slot = len(s.paths)
			s.paths = append(s.paths, g.path)
			place := -1
			if i, ok := featureIndex[g.path[len(g.path)-1]]; ok && len(g.path) == 2 && g.path[0] == "features" {
				place = i
			}
			s.feature = append(s.feature, place)
		}
	}
}

// slotValues holds the values of an evaluation's slots as they are looked up.
type slotValues struct {
	s      *guardSlots
	in     *Input
	vals   []any
	looked []uint8 // 0 not yet, 1 found, 2 missing
}

func newSlotValues(s *guardSlots, in *Input, buf []any, looked []uint8) slotValues {
	n := len(s.paths)
	if cap(buf) < n {
		buf, looked = make([]any, n), make([]uint8, n)
	}
	looked = looked[:n]
	clear(looked)
	return slotValues{s: s, in: in, vals: buf[:n], looked: looked}
}

// allFail reports whether every side of a disjunction has a guard that is certainly false.
func (v *slotValues) allFail(sides [][]guard) bool {
	for _, side := range sides {
		if !v.anyFails(side) {
			return false
		}
	}
	return true
}

// fail reports whether one of p's guards is certainly false.
func (v *slotValues) fail(p *Program) bool { return v.anyFails(p.guards) }

func (v *slotValues) anyFails(gs []guard) bool {
	for i := range gs {
		g := &gs[i]
		if g.anyOf != nil {
			if v.allFail(g.anyOf) {
				return true
			}
			continue
		}
		k := g.slot
		if k < 0 { // a program outside an engine
			if x, ok := fieldValue(v.in, g.path); ok && g.failsOn(x) {
				return true
			}
			continue
		}
		if v.looked[k] == 0 {
			if f := v.s.feature[k]; f >= 0 && v.in.Vector != nil {
				v.vals[k], v.looked[k] = v.in.Vector.at(f), 1
				if g.failsOn(v.vals[k]) {
					return true
				}
				continue
			}
			x, ok := fieldValue(v.in, v.s.paths[k])
			v.vals[k], v.looked[k] = x, 2
			if ok {
				v.looked[k] = 1
			}
		}
		if v.looked[k] == 1 && g.failsOn(v.vals[k]) {
			return true
		}
	}
	return false
}
