package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
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

// strictDecode decodes a node into v, refusing settings v does not have.
func strictDecode(n *yaml.Node, v any) error {
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return nil
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
