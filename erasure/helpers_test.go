package erasure_test

import (
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"standing"
)

func newAppeal(account, restriction, statement string) standing.NewAppeal {
	return standing.NewAppeal{AccountID: account, RestrictionID: restriction, Statement: statement}
}
