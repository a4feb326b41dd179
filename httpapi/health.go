package httpapi

import (
	"context"
	_ "embed"
	"encoding/json"
	"net/http"
	"time"

	"gopkg.in/yaml.v3"

	"standing"
	"standing/metrics"
)

// handleHealth serves GET /healthz: the process is up.
func handleHealth() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}
}

// handleReady serves GET /readyz: the store answers.
func handleReady(ready func(context.Context) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if ready != nil {
			if err := ready(ctx); err != nil {
				return writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "detail": "the store does not answer"})
			}
		}
		return writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	}
}

// handleMetrics serves GET /metrics in the Prometheus text format.
func handleMetrics(reg *metrics.Registry) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		reg.Write(w)
		return nil
	}
}

//go:embed openapi.yaml
var openapiYAML []byte

// openapiDoc is the OpenAPI document in JSON, converted once from the YAML source that
// reviewers read.
var openapiDoc = func() []byte {
	var v any
	if err := yaml.Unmarshal(openapiYAML, &v); err != nil {
		panic("httpapi: openapi.yaml is not valid YAML: " + err.Error())
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic("httpapi: openapi.yaml does not convert to JSON: " + err.Error())
	}
	return b
}()

// OpenAPI returns the OpenAPI 3.1 document of the API in JSON.
func OpenAPI() []byte { return openapiDoc }

// handleOpenAPI serves GET /openapi.json.
func handleOpenAPI() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		_, err := w.Write(openapiDoc)
		return err
	}
}

// handleGetDevClock serves GET /dev/clock (dev mode only).
func handleGetDevClock(c *standing.OffsetClock) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		return writeJSON(w, http.StatusOK, devClockView(c))
	}
}

func devClockView(c *standing.OffsetClock) map[string]any {
	return map[string]any{"now": c.Now().Format(time.RFC3339), "offset": c.Offset().String()}
}

// handleAdvanceDevClock serves POST /dev/clock {"advance": "72h"} (dev mode only): the
// service clock moves forward and due deadlines run.
func handleAdvanceDevClock(c *standing.OffsetClock, log interface{ Info(string, ...any) }) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in struct {
			Advance string `json:"advance"`
		}
		if err := decode(w, r, &in, maxBody); err != nil {
			return err
		}
		d, err := standing.ParseDuration(in.Advance)
		if err != nil || d <= 0 {
			return standing.FieldErrorf(standing.EINVALID, "advance", "advance must be a positive duration such as 72h or 7d, not %q", in.Advance)
		}
		if err := c.Advance(d.D()); err != nil {
			return err
		}
		log.Info("dev clock advanced", "by", d.String(), "now", c.Now())
		return writeJSON(w, http.StatusOK, devClockView(c))
	}
}
