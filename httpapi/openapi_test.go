package httpapi_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"standing"
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

// TestOpenAPINamesScopes: every operation names the scope its route needs (or its tag does,
// for all its routes), and the API key's description lists every scope a key can hold.
func TestOpenAPINamesScopes(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	var doc struct {
		Tags []struct {
			Name        string `json:"name"`
			Description string `json:"description"`
		} `json:"tags"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			SecuritySchemes map[string]struct{ Description string } `json:"securitySchemes"`
		} `json:"components"`
	}
	if err := json.Unmarshal(httpapi.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, rt := range e.App.API.Routes() {
		method, path, _ := strings.Cut(rt.Pattern, " ")
		raw, ok := doc.Paths[path][strings.ToLower(method)]
		if rt.Scope == "" || !ok {
			continue
		}
		var op struct {
			Description string   `json:"description"`
			Tags        []string `json:"tags"`
		}
		if err := json.Unmarshal(raw, &op); err != nil {
			t.Fatal(err)
		}
		says := op.Description
		for _, tag := range doc.Tags {
			if slices.Contains(op.Tags, tag.Name) {
				says += " " + tag.Description
			}
		}
		if !strings.Contains(strings.ToLower(strings.Join(strings.Fields(says), " ")), "scope `"+rt.Scope+"`") {
			t.Errorf("%s needs scope %s; its description does not say so:\n%s", rt.Pattern, rt.Scope, op.Description)
		}
	}
	keys := doc.Components.SecuritySchemes["apiKey"].Description
	for _, sc := range standing.KnownScopes {
		if !strings.Contains(keys, "`"+sc+"`") {
			t.Errorf("the apiKey scheme does not list the scope %s", sc)
		}
	}
}
