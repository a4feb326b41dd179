package httpapi

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"sort"
	"strings"
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

//go:embed openapi
var openapiFS embed.FS

// openapiDoc is the OpenAPI document in JSON, built once from the YAML sources that
// reviewers read: openapi/00-core.yaml holds the document's head and the core routes, and
// each other file adds the paths and components of one area of the API.
var openapiDoc = func() []byte {
	doc, err := mergeOpenAPI(openapiFS)
	if err != nil {
		panic("httpapi: " + err.Error())
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic("httpapi: the OpenAPI document does not convert to JSON: " + err.Error())
	}
	return b
}()

func mergeOpenAPI(fsys fs.FS) (map[string]any, error) {
	names, err := fs.Glob(fsys, "openapi/*.yaml")
	if err != nil || len(names) == 0 {
		return nil, fmt.Errorf("no OpenAPI sources: %v", err)
	}
	sort.Strings(names)
	var doc map[string]any
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		var part map[string]any
		if err := yaml.Unmarshal(b, &part); err != nil {
			return nil, fmt.Errorf("%s is not valid YAML: %w", name, err)
		}
		if doc == nil {
			doc = part
			continue
		}
		for _, section := range []string{"paths", "components.schemas", "components.parameters", "components.responses", "components.securitySchemes"} {
			dst, src := sub(doc, section), sub(part, section)
			for k, v := range src {
				if _, dup := dst[k]; dup {
					return nil, fmt.Errorf("%s: %s %q is defined twice", name, section, k)
				}
				dst[k] = v
			}
		}
		if tags, ok := part["tags"].([]any); ok {
			doc["tags"] = append(doc["tags"].([]any), tags...)
		}
	}
	return doc, nil
}

// sub returns the map at a dotted path of m, creating it if missing.
func sub(m map[string]any, path string) map[string]any {
	for _, k := range strings.Split(path, ".") {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	return m
}

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
// service clock moves forward and due deadlines run. The body must be sent as
// application/json (415 otherwise): a form post from another site, which a browser sends
// without asking, cannot move the clock.
func handleAdvanceDevClock(c *standing.OffsetClock, log interface{ Info(string, ...any) }) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
			return standing.Errorf(standing.EMEDIATYPE, "send the body as Content-Type: application/json, not %q", r.Header.Get("Content-Type"))
		}
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
