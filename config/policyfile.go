package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"
	"gopkg.in/yaml.v3"

	"standing"
)

// LoadPolicy reads a policy file over the built-in defaults: TOML when its name ends in
// .toml, YAML otherwise (JSON is YAML too). A setting the file leaves out keeps its
// default. Reasons are merged by code: an entry with a built-in code changes only the
// fields it sets, a new code adds a reason. Unknown settings are errors that name them.
func LoadPolicy(path string) (*standing.Policy, error) {
	p := standing.DefaultPolicy()
	if path == "" {
		return p, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy file: %w", err)
	}
	merge := MergePolicy
	if strings.EqualFold(filepath.Ext(path), ".toml") {
		merge = MergePolicyTOML
	}
	if err := merge(p, b); err != nil {
		return nil, fmt.Errorf("policy file %s: %w", path, err)
	}
	return p, nil
}

// MergePolicyTOML applies a policy document written in TOML to p and validates the result.
// The settings and their names are the YAML form's: a TOML table is a YAML mapping, and
// reasons are an array of tables ([[reasons]]).
func MergePolicyTOML(p *standing.Policy, doc []byte) error {
	var m map[string]any
	if _, err := toml.Decode(string(doc), &m); err != nil {
		return fmt.Errorf("not valid TOML: %w", err)
	}
	if len(m) == 0 {
		return p.Validate()
	}
	y, err := yaml.Marshal(m)
	if err != nil {
		return fmt.Errorf("policy TOML: %w", err)
	}
	return MergePolicy(p, y)
}

// MergePolicy applies a policy document to p and validates the result.
func MergePolicy(p *standing.Policy, doc []byte) error {
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil {
		return fmt.Errorf("not valid YAML: %w", err)
	}
	if len(root.Content) == 0 {
		return p.Validate()
	}
	m := root.Content[0]
	if m.Kind != yaml.MappingNode {
		return fmt.Errorf("the policy must be a mapping of settings")
	}
	var reasons *yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "reasons" {
			reasons = m.Content[i+1]
			m.Content = append(m.Content[:i:i], m.Content[i+2:]...)
			break
		}
	}
	if err := strictDecode(m, p); err != nil {
		return err
	}
	if reasons != nil {
		if reasons.Kind != yaml.SequenceNode {
			return fmt.Errorf("reasons must be a list")
		}
		for i, rn := range reasons.Content {
			var head struct {
				Code string `yaml:"code"`
			}
			_ = rn.Decode(&head)
			if head.Code == "" {
				return fmt.Errorf("reasons[%d]: every reason needs a code", i)
			}
			r, ok := p.Reason(head.Code)
			if !ok {
				p.Reasons = append(p.Reasons, standing.Reason{})
				r = &p.Reasons[len(p.Reasons)-1]
			} else if hasKey(rn, "keeps") {
				r.RemovesNames = nil
			} else if hasKey(rn, "removes") {
				r.KeepsNames = nil
			}
			if err := strictDecode(rn, r); err != nil {
				return fmt.Errorf("reasons[%d] (%s): %w", i, head.Code, err)
			}
			if err := p.Validate(); err != nil && !ok {
				// a new reason must stand on its own; report its problem first
				return fmt.Errorf("reasons[%d] (%s): %s", i, head.Code, standing.ErrorMessage(err))
			}
		}
	}
	if err := p.Validate(); err != nil {
		if f := standing.ErrorField(err); f != "" {
			return fmt.Errorf("%s: %s", f, standing.ErrorMessage(err))
		}
		return err
	}
	return nil
}

func hasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}

// strictDecode decodes a node into v, refusing settings v does not have. The error names
// the setting ("appeals.window: invalid duration …"): the decoder does not when the
// setting's type refuses the value, and its line numbers count the lines of the node
// written out again, not of the file.
func strictDecode(n *yaml.Node, v any) error {
	err := decodeKnown(n, v)
	if err == nil {
		return nil
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs := make([]string, len(te.Errors))
		for i, m := range te.Errors {
			msgs[i] = lineNumber.ReplaceAllString(m, "")
		}
		msg = strings.Join(msgs, "; ")
	}
	if path := failingSetting(n, reflect.TypeOf(v).Elem(), nil); path != "" {
		return fmt.Errorf("%s: %s", path, msg)
	}
	return fmt.Errorf("%s", msg)
}

var lineNumber = regexp.MustCompile(`^line \d+: `)

func decodeKnown(n *yaml.Node, v any) error {
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	return dec.Decode(v)
}

// failingSetting returns the dotted name of the first setting of the mapping n that its
// type refuses on its own ("appeals.window"), or of a setting t does not have; t is the
// type n decodes into, path leads to n.
func failingSetting(n *yaml.Node, t reflect.Type, path []string) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		p := append(path[:len(path):len(path)], n.Content[i].Value)
		ft, ok := settingType(t, n.Content[i].Value)
		if !ok {
			return strings.Join(p, ".")
		}
		val := n.Content[i+1]
		if decodeKnown(val, reflect.New(ft).Interface()) == nil {
			continue
		}
		if indirect(ft).Kind() == reflect.Struct {
			if name := failingSetting(val, ft, p); name != "" {
				return name
			}
		}
		return strings.Join(p, ".")
	}
	return ""
}

// settingType returns the type of t's setting named key, as yaml.v3 names fields.
func settingType(t reflect.Type, key string) (reflect.Type, bool) {
	t = indirect(t)
	if t.Kind() != reflect.Struct {
		return nil, false
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		if f.IsExported() && name == key {
			return f.Type, true
		}
	}
	return nil, false
}

func indirect(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// PolicyYAML writes the effective policy as YAML.
func PolicyYAML(p *standing.Policy) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
