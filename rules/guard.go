package rules

import (
	"cmp"
	"math"
	"slices"

	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
)

// A guard is a conjunct of a rule's expression simple enough to check without CEL: a field
// of a variable compared with a literal (features.ips_24h >= 5, account.role == "buyer"),
// or a bool field alone or negated (features.new_device, !features.ip_vpn). When a guard
// is false the rule is false, whatever its other conjuncts give — CEL's && is false when
// either side is, even when the other fails — so the engine skips the evaluation. Most
// rules are false for most events, and a guard costs a map lookup where an evaluation
// costs the interpreter's setup and a walk of the expression.
//
// A guard decides only when the value has the literal's own kind (an int compared with an
// int literal, a double with a double, a string with a string, a bool); a missing value,
// another kind or a NaN leaves the decision to CEL, whose cross-type comparisons it does
// not repeat.
type guard struct {
	root, field string
	op          string // an operators name; "" for a bool field alone, operators.LogicalNot negated
	lit         any    // int64, float64, string or bool; nil for a bool field
	slot        int    // the engine's slot of root.field (guardSlots); -1 outside an engine
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
			g.slot = -1
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
	field := func(x ast.Expr) (root, name string, ok bool) {
		if x.Kind() != ast.SelectKind || x.AsSelect().IsTestOnly() {
			return "", "", false // has(features.x) tests presence, not the value
		}
		p, ok := chain(x, nil)
		if !ok || len(p) != 2 {
			return "", "", false
		}
		return p[0], p[1], true
	}
	if root, name, ok := field(e); ok {
		return guard{root: root, field: name}, true
	}
	if e.Kind() != ast.CallKind {
		return guard{}, false
	}
	c := e.AsCall()
	args := c.Args()
	if c.FunctionName() == operators.LogicalNot && len(args) == 1 {
		if root, name, ok := field(args[0]); ok {
			return guard{root: root, field: name, op: operators.LogicalNot}, true
		}
		return guard{}, false
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
	if root, name, ok := field(args[0]); ok {
		if lit, ok := literal(args[1]); ok {
			return guard{root: root, field: name, op: c.FunctionName(), lit: lit}, true
		}
	}
	if root, name, ok := field(args[1]); ok {
		if lit, ok := literal(args[0]); ok {
			return guard{root: root, field: name, op: op, lit: lit}, true
		}
	}
	return guard{}, false
}

// fails reports whether the guard is certainly false for the variable's map m.
func (g guard) fails(m map[string]any) bool {
	v, ok := m[g.field]
	return ok && g.failsOn(v)
}

// failsOn reports whether the guard is certainly false for the field's value v.
func (g guard) failsOn(v any) bool {
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

// guardsFail reports whether one of the program's guards is certainly false for in.
func (p *Program) guardsFail(in *Input) bool {
	for _, g := range p.guards {
		if g.fails(varMap(in, g.root)) {
			return true
		}
	}
	return false
}

func varMap(in *Input, root string) map[string]any {
	switch root {
	case "features":
		return in.Features
	case "account":
		return in.Account
	}
	return in.Event
}

// guardSlots numbers the fields the guards of an engine's programs read, so that an
// evaluation looks each up once however many rules guard on it. The programs are the
// engine's own copies: it sets their guards' slots.
type guardSlots struct {
	fields []guard // root and field of each slot
}

// add gives every guard of p its slot.
func (s *guardSlots) add(p *Program) {
	for i := range p.guards {
		g := &p.guards[i]
		g.slot = slices.IndexFunc(s.fields, func(f guard) bool { return f.root == g.root && f.field == g.field })
		if g.slot < 0 {
			g.slot = len(s.fields)
			s.fields = append(s.fields, guard{root: g.root, field: g.field})
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
	n := len(s.fields)
	if cap(buf) < n {
		buf, looked = make([]any, n), make([]uint8, n)
	}
	looked = looked[:n]
	clear(looked)
	return slotValues{s: s, in: in, vals: buf[:n], looked: looked}
}

// fail reports whether one of p's guards is certainly false.
func (v *slotValues) fail(p *Program) bool {
	for _, g := range p.guards {
		k := g.slot
		if v.looked[k] == 0 {
			f := v.s.fields[k]
			x, ok := varMap(v.in, f.root)[f.field]
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
