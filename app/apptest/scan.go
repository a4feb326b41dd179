package apptest

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"standing/blob"
	"standing/sqlstore"
)

// Occurrences counts the places marker appears, ignoring case: every row of every text
// column of every table, and every stored evidence file. A test of what Standing must not
// keep (an erased person, a card number) wants 0; the same count before, of what it does
// keep, shows the scan can find it.
func (e *Env) Occurrences(marker string) int {
	t := e.T
	t.Helper()
	ctx := context.Background()
	var db *sql.DB
	var err error
	var cols [][2]string
	if e.App.Store.Dialect() == sqlstore.Postgres {
		db, err = sql.Open("pgx", e.App.Config.DatabaseURL)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := db.QueryContext(ctx, `SELECT table_name, column_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND data_type IN ('text', 'character varying')`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var tbl, col string
			rows.Scan(&tbl, &col)
			cols = append(cols, [2]string{tbl, col})
		}
		rows.Close()
	} else {
		db, err = sql.Open("sqlite", filepath.Join(e.App.Config.DataDir, "standing.db"))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := db.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'table'")
		if err != nil {
			t.Fatal(err)
		}
		var tables []string
		for rows.Next() {
			var n string
			rows.Scan(&n)
			tables = append(tables, n)
		}
		rows.Close()
		for _, tbl := range tables {
			info, err := db.QueryContext(ctx, fmt.Sprintf("PRAGMA table_info(%q)", tbl))
			if err != nil {
				t.Fatal(err)
			}
			for info.Next() {
				var cid, notnull, pk int
				var name, typ string
				var def any
				info.Scan(&cid, &name, &typ, &notnull, &def, &pk)
				if strings.Contains(strings.ToUpper(typ), "TEXT") {
					cols = append(cols, [2]string{tbl, name})
				}
			}
			info.Close()
		}
	}
	defer db.Close()
	if len(cols) < 20 {
		t.Fatalf("found only %d text columns; the scan is broken", len(cols))
	}
	found := 0
	for _, c := range cols {
		var n int
		q := fmt.Sprintf(`SELECT COUNT(*) FROM %q WHERE lower(CAST(%q AS TEXT)) LIKE $1`, c[0], c[1])
		if err := db.QueryRowContext(ctx, q, "%"+strings.ToLower(marker)+"%").Scan(&n); err != nil {
			t.Fatalf("scan %s.%s: %v", c[0], c[1], err)
		}
		if n > 0 {
			t.Logf("%q found in %s.%s (%d rows)", marker, c[0], c[1], n)
		}
		found += n
	}
	err = e.App.Blobs.List(ctx, "", func(i blob.Info) error {
		rc, _, err := e.App.Blobs.Get(ctx, i.Key)
		if err != nil {
			return err
		}
		defer rc.Close()
		b, _ := io.ReadAll(rc)
		if bytes.Contains(bytes.ToLower(b), []byte(strings.ToLower(marker))) {
			t.Logf("%q found in the file %s", marker, i.Key)
			found++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}
