package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"standing"
	"standing/sqlstore"
	"standing/standingtest"
)

func openRisk(t *testing.T, dsn string, clock standing.Clock) standingtest.RiskBackend {
	t.Helper()
	b := open(t, dsn, clock)
	s := b.Store.(*sqlstore.Store)
	r := sqlstore.NewRisk(s, sqlstore.RiskOptions{Combine: true})
	if _, err := r.SeedDefaultRules(context.Background()); err != nil {
		t.Fatal(err)
	}
	return standingtest.RiskBackend{Backend: b, Risk: s, Engine: r}
}

func TestRiskSQLite(t *testing.T) {
	standingtest.TestRisk(t, func(t *testing.T, clock standing.Clock) standingtest.RiskBackend {
		return openRisk(t, filepath.Join(t.TempDir(), "standing.db"), clock)
	})
}

func TestRiskPostgres(t *testing.T) {
	standingtest.PostgresURL(t) // skip early, with the reason, when PostgreSQL is not there
	standingtest.TestRisk(t, func(t *testing.T, clock standing.Clock) standingtest.RiskBackend {
		return openRisk(t, standingtest.PostgresURL(t), clock)
	})
}
