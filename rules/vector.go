package rules

import (
	"reflect"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
)

// FeatureVector holds every feature's value by its place in the catalog: what a map from
// FeaturesAt holds, without a hash and a probe for each of the thirty. The event path
// fills one per event (VectorInto) and evaluates with it (Input.Vector); the guards read
// their features by place, and CEL through a map value over the vector (vectorVal).
type FeatureVector struct {
	v [numFeatures]any
}

// featureIndex maps a feature's name to its place in a FeatureVector.
var featureIndex = func() map[string]int {
	m := make(map[string]int, numFeatures)
	for i, f := range featureCatalog {
		m[f.Name] = i
	}
	return m
}()

// Get returns the named feature's value; false for a name that is no feature.
func (v *FeatureVector) Get(name string) (any, bool) {
	i, ok := featureIndex[name]
	if !ok {
		return nil, false
	}
	return v.at(i), true
}

// at returns the value at place i; a place never set holds the feature's zero value.
func (v *FeatureVector) at(i int) any {
	if x := v.v[i]; x != nil {
		return x
	}
	return featureDefaults[featureCatalog[i].Name]
}

// Map returns every feature in a map, as FeaturesAt gives them.
func (v *FeatureVector) Map() map[string]any {
	return v.mapOf("", make(map[string]any, numFeatures))
}

// mapOf sets in m the features of the source ("" for all) and returns m.
func (v *FeatureVector) mapOf(source string, m map[string]any) map[string]any {
	for i, f := range featureCatalog {
		if source == "" || f.Source == source {
			m[f.Name] = v.at(i)
		}
	}
	return m
}

// vectorVal is a FeatureVector as the CEL map value of the features variable. A field
// read (features.ips_24h, features["ips_24h"], has(features.x)) looks the name up in
// place; anything else — a comparison of the whole map, a loop over it, a conversion —
// goes to the map FeaturesAt would have given, built the first time one is needed. So a
// rule sees the same values and the same errors either way.
type vectorVal struct {
	vec  *FeatureVector
	full ref.Val
}

var _ traits.Mapper = (*vectorVal)(nil)

func (f *vectorVal) asMap() traits.Mapper {
	if f.full == nil {
		f.full = types.DefaultTypeAdapter.NativeToValue(f.vec.Map())
	}
	return f.full.(traits.Mapper)
}

// Find returns the value of the key, when it names a feature.
func (f *vectorVal) Find(key ref.Val) (ref.Val, bool) {
	if s, ok := key.(types.String); ok {
		if i, ok := featureIndex[string(s)]; ok {
			return types.DefaultTypeAdapter.NativeToValue(f.vec.at(i)), true
		}
	}
	return f.asMap().Find(key)
}

func (f *vectorVal) Get(key ref.Val) ref.Val {
	if v, ok := f.Find(key); ok {
		return v
	}
	return f.asMap().Get(key)
}

func (f *vectorVal) Contains(key ref.Val) ref.Val {
	if s, ok := key.(types.String); ok {
		if _, ok := featureIndex[string(s)]; ok {
			return types.True
		}
	}
	return f.asMap().Contains(key)
}

func (f *vectorVal) Size() ref.Val                    { return types.Int(numFeatures) }
func (f *vectorVal) Iterator() traits.Iterator        { return f.asMap().Iterator() }
func (f *vectorVal) Equal(other ref.Val) ref.Val      { return f.asMap().Equal(other) }
func (f *vectorVal) Type() ref.Type                   { return types.MapType }
func (f *vectorVal) Value() any                       { return f.asMap().Value() }
func (f *vectorVal) ConvertToType(t ref.Type) ref.Val { return f.asMap().ConvertToType(t) }
func (f *vectorVal) ConvertToNative(t reflect.Type) (any, error) {
	return f.asMap().ConvertToNative(t)
}
