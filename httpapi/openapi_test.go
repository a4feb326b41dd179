package httpapi_test

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"

	"standing/app/apptest"
	"standing/httpapi"
)

// TestOpenAPIMatchesRoutes fails when a route and the OpenAPI document disagree: a route
// the document does not describe, or a documented operation no route serves.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	r := e.Do("GET", "/openapi.json", "", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET /openapi.json = %d", r.Status)
	}
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			if method == "parameters" {
				continue
			}
			documented[strings.ToUpper(method)+" "+path] = true
			var op struct {
				Summary   string                     `json:"summary"`
				Responses map[string]json.RawMessage `json:"responses"`
			}
			if err := json.Unmarshal(raw, &op); err != nil || op.Summary == "" || len(op.Responses) == 0 {
				t.Errorf("%s %s: every operation needs a summary and responses", method, path)
			}
		}
	}
	served := map[string]bool{}
	for _, rt := range e.App.API.Routes() {
		if strings.Contains(rt.Pattern, " /dev/") {
			continue // developer-only routes are not part of the contract
		}
		served[rt.Pattern] = true
	}
	var missing, extra []string
	for k := range served {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !served[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("routes missing from openapi.yaml:\n  %s", strings.Join(missing, "\n  "))
	}
	if len(extra) > 0 {
		t.Errorf("openapi.yaml documents operations no route serves:\n  %s", strings.Join(extra, "\n  "))
	}
	if len(httpapi.OpenAPI()) == 0 {
		t.Error("empty OpenAPI document")
	}
}
