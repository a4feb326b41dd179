package sqlstore

import (
	"context"
	"strings"
	"sync"
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
// kept fresh. It reconnects after an error, which it logs, and closes ready when a later
// attempt listens if the first did not; as notifications may have been missed meanwhile,
// it then calls lost, which should drop the whole cache.
func (s *Store) ListenChanges(ctx context.Context, changed func(ids []string), lost func(), ready chan<- struct{}) {
	if s.dialect != Postgres {
		close(ready)
		return
	}
	var once sync.Once
	listening := func() { once.Do(func() { close(ready) }) }
	backoff := s.listenRetry
	for ctx.Err() == nil {
		listened, err := s.listen(ctx, changed, listening)
		if ctx.Err() != nil {
			return
		}
		if listened {
			backoff = s.listenRetry
		}
		s.log.Warn("listening for other processes' changes failed; trying again",
			"err", err, "retry_in", backoff)
		lost()
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

// listen listens on one connection until an error, which it returns; listened says it
// got as far as listening, when it called listening.
func (s *Store) listen(ctx context.Context, changed func(ids []string), listening func()) (listened bool, err error) {
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+changeChannel); err != nil {
		return false, err
	}
	listening()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		changed(strings.Split(n.Payload, ","))
	}
}
