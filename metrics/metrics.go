// Package metrics keeps counters and histograms and writes them in the Prometheus text
// exposition format. It is a few hundred lines instead of a dependency tree: Standing needs
// labelled counters, histograms and gauges read at scrape time, nothing more. Hot-path
// updates are lock-free after the first use of a label set.
package metrics

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Registry holds metrics and writes them out.
type Registry struct {
	mu      sync.Mutex
	metrics []writer
}

type writer interface{ write(w io.Writer) }

// New returns an empty registry.
func New() *Registry { return &Registry{} }

func (r *Registry) add(m writer) {
	r.mu.Lock()
	r.metrics = append(r.metrics, m)
	r.mu.Unlock()
}

// Write writes every metric in the text exposition format.
func (r *Registry) Write(w io.Writer) {
	r.mu.Lock()
	ms := append([]writer(nil), r.metrics...)
	r.mu.Unlock()
	for _, m := range ms {
		m.write(w)
	}
}

// key is a label-value tuple; up to three labels need no allocation to look up.
type key [3]string

type family struct {
	name, help, kind string
	labels           []string
}

func (f *family) header(w io.Writer) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", f.name, f.help, f.name, f.kind)
}

func (f *family) labelText(k key, extra string) string {
	var parts []string
	for i, l := range f.labels {
		parts = append(parts, l+`="`+escape(k[i])+`"`)
	}
	if extra != "" {
		parts = append(parts, extra)
	}
	if len(parts) == 0 {
		return ""
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func escape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

func mustKey(labels []string, values []string) key {
	if len(values) != len(labels) || len(values) > 3 {
		panic(fmt.Sprintf("metrics: want %d label values, got %d", len(labels), len(values)))
	}
	var k key
	copy(k[:], values)
	return k
}

// Counter is a monotonically increasing count.
type Counter struct{ v atomic.Uint64 }

// Inc adds one.
func (c *Counter) Inc() { c.v.Add(1) }

// Add adds n.
func (c *Counter) Add(n uint64) { c.v.Add(n) }

// CounterVec is a counter per label set.
type CounterVec struct {
	family
	mu sync.RWMutex
	m  map[key]*Counter
}

// Counter registers a counter family.
func (r *Registry) Counter(name, help string, labels ...string) *CounterVec {
	c := &CounterVec{family: family{name, help, "counter", labels}, m: map[key]*Counter{}}
	r.add(c)
	return c
}

// With returns the counter of the label values, creating it on first use.
func (c *CounterVec) With(values ...string) *Counter {
	k := mustKey(c.labels, values)
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return v
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok = c.m[k]; !ok {
		v = &Counter{}
		c.m[k] = v
	}
	return v
}

// With1 is With for a family of one label, without the variadic allocation.
func (c *CounterVec) With1(value string) *Counter {
	c.mu.RLock()
	v, ok := c.m[key{value}]
	c.mu.RUnlock()
	if ok {
		return v
	}
	return c.With(value)
}

func sortedKeys[V any](m map[key]V) []key {
	ks := make([]key, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		for x := 0; x < 3; x++ {
			if ks[i][x] != ks[j][x] {
				return ks[i][x] < ks[j][x]
			}
		}
		return false
	})
	return ks
}

func (c *CounterVec) write(w io.Writer) {
	c.header(w)
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, k := range sortedKeys(c.m) {
		fmt.Fprintf(w, "%s%s %d\n", c.name, c.labelText(k, ""), c.m[k].v.Load())
	}
}

// Histogram counts observations into buckets.
type Histogram struct {
	upper  []float64
	counts []atomic.Uint64
	count  atomic.Uint64
	sum    atomic.Uint64 // float64 bits
}

// Observe records one value.
func (h *Histogram) Observe(v float64) {
	i := sort.SearchFloat64s(h.upper, v)
	if i < len(h.counts) {
		h.counts[i].Add(1)
	}
	h.count.Add(1)
	for {
		old := h.sum.Load()
		if h.sum.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

// HistogramVec is a histogram per label set.
type HistogramVec struct {
	family
	buckets []float64
	mu      sync.RWMutex
	m       map[key]*Histogram
}

// LatencyBuckets are seconds from 50 µs to 5 s.
var LatencyBuckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

// Histogram registers a histogram family with the given bucket upper bounds.
func (r *Registry) Histogram(name, help string, buckets []float64, labels ...string) *HistogramVec {
	h := &HistogramVec{family: family{name, help, "histogram", labels}, buckets: buckets, m: map[key]*Histogram{}}
	r.add(h)
	return h
}

// With returns the histogram of the label values, creating it on first use.
func (h *HistogramVec) With(values ...string) *Histogram {
	k := mustKey(h.labels, values)
	return h.get(k)
}

// With2 is With for a family of two labels, without the variadic allocation.
func (h *HistogramVec) With2(a, b string) *Histogram { return h.get(key{a, b}) }

func (h *HistogramVec) get(k key) *Histogram {
	h.mu.RLock()
	v, ok := h.m[k]
	h.mu.RUnlock()
	if ok {
		return v
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if v, ok = h.m[k]; !ok {
		v = &Histogram{upper: h.buckets, counts: make([]atomic.Uint64, len(h.buckets))}
		h.m[k] = v
	}
	return v
}

func (h *HistogramVec) write(w io.Writer) {
	h.header(w)
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, k := range sortedKeys(h.m) {
		v := h.m[k]
		var cum uint64
		for i, ub := range v.upper {
			cum += v.counts[i].Load()
			fmt.Fprintf(w, "%s_bucket%s %d\n", h.name, h.labelText(k, `le="`+strconv.FormatFloat(ub, 'g', -1, 64)+`"`), cum)
		}
		fmt.Fprintf(w, "%s_bucket%s %d\n", h.name, h.labelText(k, `le="+Inf"`), v.count.Load())
		fmt.Fprintf(w, "%s_sum%s %g\n", h.name, h.labelText(k, ""), math.Float64frombits(v.sum.Load()))
		fmt.Fprintf(w, "%s_count%s %d\n", h.name, h.labelText(k, ""), v.count.Load())
	}
}

// GaugeFunc is a gauge family whose values are read at scrape time.
type GaugeFunc struct {
	family
	fn func() map[string]float64
}

// Gauge registers a gauge of one label (or none, with label "") read by fn at scrape time.
// fn returns the value per label value; with no label, the value under "".
func (r *Registry) Gauge(name, help, label string, fn func() map[string]float64) {
	g := &GaugeFunc{family: family{name: name, help: help, kind: "gauge"}, fn: fn}
	if label != "" {
		g.labels = []string{label}
	}
	r.add(g)
}

func (g *GaugeFunc) write(w io.Writer) {
	vals := g.fn()
	if vals == nil {
		return
	}
	g.header(w)
	names := make([]string, 0, len(vals))
	for k := range vals {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "%s%s %g\n", g.name, g.labelText(key{n}, ""), vals[n])
	}
}
