// Package httpapi serves Standing's operator API under /v1: JSON in and out, API keys
// with scopes, RFC 9457 problems for every error, an OpenAPI 3.1 document at
// /openapi.json, health and Prometheus metrics. routes.go lists the whole surface.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"standing"
	"standing/checker"
	"standing/metrics"
)

// Deps are what the API's handlers need. Each handler takes only the ones it uses.
type Deps struct {
	Accounts      standing.AccountReader
	AccountWriter standing.AccountWriter
	Restrictions  standing.RestrictionReader
	Enforcer      standing.Enforcer
	Audit         standing.AuditLog
	Keys          standing.APIKeyStore
	Checker       *checker.Cache
	Clock         standing.Clock
	Policy        func() *standing.Policy
	Ready         func(ctx context.Context) error
	Metrics       *metrics.Registry
	Log           *slog.Logger
	// DevClock is set only in --dev mode; it turns on POST /dev/clock.
	DevClock *standing.OffsetClock
}

// handlerFunc is an HTTP handler that returns its error for one place to write.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// Route is one entry of the API surface.
type Route struct {
	Pattern string // Go 1.22 method pattern: "POST /v1/check"
	Scope   string // API key scope needed; "" for public routes
	Handler handlerFunc
}

// Server serves the API.
type Server struct {
	deps    Deps
	mux     *http.ServeMux
	routes  []Route
	keys    *keyCache
	latency *metrics.HistogramVec
}

// New returns the API server with every route of routes.go registered, and the extra
// routes of the feature areas wired by the app.
func New(d Deps, extra ...Route) *Server {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Metrics == nil {
		d.Metrics = metrics.New()
	}
	s := &Server{deps: d, mux: http.NewServeMux(), keys: newKeyCache(d.Keys)}
	s.latency = d.Metrics.Histogram("standing_http_request_duration_seconds",
		"Time to serve an API request, by route and status class.", metrics.LatencyBuckets, "route", "code")
	s.routes = append(s.routeTable(), extra...)
	for _, rt := range s.routes {
		s.mux.Handle(rt.Pattern, s.wrap(rt))
	}
	s.mux.Handle(noRoute, s.wrap(Route{noRoute, "", s.handleNoRoute}))
	return s
}

// noRoute is the pattern of every path under /v1/ that no route of the API serves.
const noRoute = "/v1/"

// handleNoRoute answers a path under /v1/ that no route serves with a problem, like every
// other error of the API: 405 with Allow when the path has routes for other methods, 404
// when it has none.
func (s *Server) handleNoRoute(w http.ResponseWriter, r *http.Request) error {
	var allow []string
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		probe := r.WithContext(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != noRoute {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		return standing.Errorf(standing.ENOTFOUND, "no route %s; /openapi.json lists them all", r.URL.Path)
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	return standing.Errorf(standing.EMETHOD, "%s takes %s, not %s", r.URL.Path, strings.Join(allow, ", "), r.Method)
}

// Routes returns the API surface, for the OpenAPI test and the docs.
func (s *Server) Routes() []Route { return s.routes }

// Handle registers an extra handler (web pages, dev tools) on the server's mux.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// ServeHTTP serves a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (sw *statusWriter) WriteHeader(code int) {
	if sw.status == 0 {
		sw.status = code
	}
	sw.ResponseWriter.WriteHeader(code)
}

func (sw *statusWriter) Write(b []byte) (int, error) {
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	return sw.ResponseWriter.Write(b)
}

func (sw *statusWriter) Unwrap() http.ResponseWriter { return sw.ResponseWriter }

var statusClass = [6]string{"1xx", "1xx", "2xx", "3xx", "4xx", "5xx"}

// wrap adds authentication, error writing and the latency metric to a route.
func (s *Server) wrap(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		var err error
		if rt.Scope != "" {
			var key *standing.APIKey
			// The check needs no caller identity; skipping the request copy keeps it lean.
			if key, err = s.keys.authenticate(r.Context(), r.Header.Get("Authorization"), rt.Scope); err == nil && rt.Scope != standing.ScopeCheck {
				r = r.WithContext(context.WithValue(r.Context(), keyCtx{}, key))
			}
		}
		if err == nil {
			err = rt.Handler(sw, r)
		}
		if err != nil {
			writeError(sw, r, s.deps.Log, err)
		}
		class := "5xx"
		if sw.status >= 100 && sw.status < 600 {
			class = statusClass[sw.status/100]
		}
		s.latency.With2(rt.Pattern, class).Observe(time.Since(start).Seconds())
	})
}

type keyCtx struct{}

// callerKey returns the API key that authenticated the request.
func callerKey(r *http.Request) *standing.APIKey {
	k, _ := r.Context().Value(keyCtx{}).(*standing.APIKey)
	return k
}

// actorOf names who acts: the actor given in the body, else the API key.
func actorOf(r *http.Request, given string) string {
	if given != "" {
		return given
	}
	if k := callerKey(r); k != nil {
		return "key:" + k.Name
	}
	return "api"
}

func queryInt(r *http.Request, name string, def, max int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > max {
		return 0, standing.FieldErrorf(standing.EINVALID, name, "%s must be a whole number from 0 to %d", name, max)
	}
	return n, nil
}
