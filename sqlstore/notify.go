package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// changeChannel is the PostgreSQL channel on which every commit that changed standing
// names the accounts it changed, so that every process sharing the database drops them
// from its check cache.
const changeChannel = "standing_changed"

// notifyChanges queues a notification of the changed accounts in the transaction; PostgreSQL
// delivers it on commit, and not at all on rollback.
func (t *tx) notifyChanges() error {
	if t.s.dialect != Postgres || len(t.changed) == 0 {
		return nil
	}
	// Payloads must stay under 8000 bytes; ids are about 30.
	for start := 0; start < len(t.changed); start += 200 {
		end := min(start+200, len(t.changed))
		if _, err := t.Tx.ExecContext(t.ctx, "SELECT pg_notify($1, $2)", changeChannel, strings.Join(t.changed[start:end], ",")); err != nil {
			return err
		}
	}
	return nil
}

// ListenChanges calls changed with the accounts other processes (and this one) changed,
// until ctx ends. ready is closed once it listens (at once on SQLite, where one process
// owns the database and there is nothing to listen to): what a cache loads after that is
// kept fresh. It reconnects after an error; as notifications may have been missed
// meanwhile, it then calls lost, which should drop the whole cache.
func (s *Store) ListenChanges(ctx context.Context, changed func(ids []string), lost func(), ready chan<- struct{}) {
	if s.dialect != Postgres {
		close(ready)
		return
	}
	backoff := time.Second
	for ctx.Err() == nil {
		err := s.listen(ctx, changed, ready)
		ready = nil
		if ctx.Err() != nil {
			return
		}
		lost()
		_ = err
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		if backoff < time.Minute {
			backoff *= 2
		}
	}
}

func (s *Store) listen(ctx context.Context, changed func(ids []string), ready chan<- struct{}) error {
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+changeChannel); err != nil {
		return err
	}
	if ready != nil {
		close(ready)
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		changed(strings.Split(n.Payload, ","))
	}
}
