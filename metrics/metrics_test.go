package metrics_test

import (
	"bytes"
	"strings"
	"testing"

	"standing/metrics"
)

func TestExposition(t *testing.T) {
	reg := metrics.New()
	c := reg.Counter("x_total", "Things.", "reason")
	c.With1("a").Inc()
	c.With("a").Add(2)
	c.With1(`q"uote`).Inc()
	h := reg.Histogram("lat_seconds", "Latency.", []float64{0.1, 1}, "route", "code")
	h.With2("GET /", "2xx").Observe(0.05)
	h.With("GET /", "2xx").Observe(0.5)
	h.With2("GET /", "2xx").Observe(5)
	reg.Gauge("g", "Gauge.", "state", func() map[string]float64 { return map[string]float64{"b": 2, "a": 1} })
	var buf bytes.Buffer
	reg.Write(&buf)
	want := `# HELP x_total Things.
# TYPE x_total counter
x_total{reason="a"} 3
x_total{reason="q\"uote"} 1
# HELP lat_seconds Latency.
# TYPE lat_seconds histogram
lat_seconds_bucket{route="GET /",code="2xx",le="0.1"} 1
lat_seconds_bucket{route="GET /",code="2xx",le="1"} 2
lat_seconds_bucket{route="GET /",code="2xx",le="+Inf"} 3
lat_seconds_sum{route="GET /",code="2xx"} 5.55
lat_seconds_count{route="GET /",code="2xx"} 3
# HELP g Gauge.
# TYPE g gauge
g{state="a"} 1
g{state="b"} 2
`
	if buf.String() != want {
		t.Errorf("exposition:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestWrongLabelCountPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for a wrong label count")
		}
	}()
	metrics.New().Counter("x", "x", "a", "b").With("only-one")
}

func BenchmarkCounterWith1(b *testing.B) {
	c := metrics.New().Counter("x", "x", "reason")
	b.ReportAllocs()
	for b.Loop() {
		c.With1("risk_review").Inc()
	}
	_ = strings.ToLower
}
