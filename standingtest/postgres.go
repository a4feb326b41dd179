package standingtest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver

	"standing"
)

// DefaultPostgresURL is the test database of the CI machine.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// PostgresURL returns the URL of a fresh, empty schema in the test PostgreSQL database
// (STANDING_TEST_POSTGRES, default DefaultPostgresURL), dropped when the test ends. When
// PostgreSQL does not answer, the test is skipped with a message saying so — unless
// STANDING_REQUIRE_POSTGRES=1 (set by CI), which makes it fail instead.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("STANDING_TEST_POSTGRES")
	if base == "" {
		base = DefaultPostgresURL
	}
	db, err := sql.Open("pgx", base)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err = db.PingContext(ctx)
		cancel()
	}
	if err != nil {
		if db != nil {
			db.Close()
		}
		if os.Getenv("STANDING_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("PostgreSQL is required (STANDING_REQUIRE_POSTGRES=1) but %s does not answer: %v", base, err)
		}
		t.Skipf("skipping: PostgreSQL at %s does not answer (%v); set STANDING_TEST_POSTGRES to run these tests on PostgreSQL", base, err)
	}
	schema := "t_" + strings.ToLower(standing.RandomToken(10))
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		db.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db.Exec("DROP SCHEMA " + schema + " CASCADE")
		db.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return fmt.Sprint(u)
}
