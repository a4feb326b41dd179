package sqlstore

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"standing"
	"standing/jobs"
)

// enqueue writes a job in the transaction; it runs only if the transaction commits. A job
// whose dedupe key a pending or running job holds already is not written again, and then
// the workers are not woken for it.
func (t *tx) enqueue(j jobs.Job) error {
	if j.ID == "" {
		j.ID = standing.NewID("job", t.now)
	}
	if j.RunAt.IsZero() {
		j.RunAt = t.now
	}
	if j.MaxAttempts == 0 {
		j.MaxAttempts = 25
	}
	if len(j.Payload) == 0 {
		j.Payload = []byte("{}")
	}
	inserted, err := changedRows(t.exec(`INSERT INTO jobs (id, kind, dedupe_key, payload, run_at, state, attempts, max_attempts, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?) ON CONFLICT DO NOTHING`,
		j.ID, j.Kind, nullString(j.DedupeKey), string(j.Payload), ts(j.RunAt), j.MaxAttempts, ts(t.now), ts(t.now)))
	if inserted {
		t.queued = true
	}
	return err
}

// EnqueueJob adds a job outside any other change.
func (s *Store) EnqueueJob(ctx context.Context, j jobs.Job) error {
	return s.write(ctx, func(t *tx) error { return t.enqueue(j) })
}

// ClaimJobs marks up to limit due jobs running and returns them.
func (s *Store) ClaimJobs(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]jobs.Job, error) {
	var out []jobs.Job
	err := s.write(ctx, func(t *tx) error {
		sub := "SELECT id FROM jobs WHERE (state = 'pending' AND run_at <= ?) OR (state = 'running' AND locked_until <= ?) ORDER BY run_at LIMIT ?"
		if s.dialect == Postgres {
			sub += " FOR UPDATE SKIP LOCKED"
		}
		rows, err := t.query(`UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_until = ?, updated_at = ?
			WHERE id IN (`+sub+`)
			RETURNING id, kind, COALESCE(dedupe_key, ''), payload, run_at, attempts, max_attempts, last_error`,
			ts(now.Add(lease)), ts(now), ts(now), ts(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var j jobs.Job
			var payload string
			var runAt int64
			if err := rows.Scan(&j.ID, &j.Kind, &j.DedupeKey, &payload, &runAt, &j.Attempts, &j.MaxAttempts, &j.LastError); err != nil {
				return err
			}
			j.Payload, j.RunAt, j.State = []byte(payload), fromTS(runAt), "running"
			out = append(out, j)
		}
		return rows.Err()
	})
	return out, err
}

func (s *Store) setJob(ctx context.Context, query string, args ...any) error {
	return s.write(ctx, func(t *tx) error {
		_, err := t.exec(query, args...)
		return err
	})
}

// CompleteJob marks a job done.
func (s *Store) CompleteJob(ctx context.Context, id string) error {
	return s.setJob(ctx, "UPDATE jobs SET state = 'done', locked_until = NULL, updated_at = ? WHERE id = ?", ts(s.clock.Now()), id)
}

// RetryJob puts a job back to pending at runAt.
func (s *Store) RetryJob(ctx context.Context, id string, runAt time.Time, errText string) error {
	return s.setJob(ctx, "UPDATE jobs SET state = 'pending', run_at = ?, last_error = ?, locked_until = NULL, updated_at = ? WHERE id = ?",
		ts(runAt), truncate(errText, 2000), ts(s.clock.Now()), id)
}

// FailJob marks a job failed for good.
func (s *Store) FailJob(ctx context.Context, id string, errText string) error {
	return s.setJob(ctx, "UPDATE jobs SET state = 'failed', last_error = ?, locked_until = NULL, updated_at = ? WHERE id = ?",
		truncate(errText, 2000), ts(s.clock.Now()), id)
}

// ReleaseJobs returns jobs left running to pending. On SQLite one process owns the file's
// jobs, so every running job was left by a process that stopped; on PostgreSQL several
// processes share the queue, so only jobs whose lease ran out are released (by ClaimJobs).
func (s *Store) ReleaseJobs(ctx context.Context) (int, error) {
	if s.dialect == Postgres {
		return 0, nil
	}
	var n int64
	err := s.write(ctx, func(t *tx) error {
		res, err := t.exec("UPDATE jobs SET state = 'pending', locked_until = NULL WHERE state = 'running'")
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return int(n), err
}

// CancelJobs cancels the pending jobs with a dedupe key.
func (t *tx) cancelJobs(dedupeKey string) error {
	_, err := t.exec("UPDATE jobs SET state = 'cancelled', updated_at = ? WHERE dedupe_key = ? AND state = 'pending'", ts(t.now), dedupeKey)
	return err
}

// JobCounts returns the number of jobs per state, for metrics and the operator.
func (s *Store) JobCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.query(ctx, "SELECT state, COUNT(*) FROM jobs GROUP BY state")
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, translate(err)
		}
		out[st] = n
	}
	return out, translate(rows.Err())
}

// truncate makes text from outside (a User-Agent header, a server's error, an event's
// attributes) fit a column: valid UTF-8 without NUL, at most n bytes, cut at the start
// of a character. PostgreSQL refuses text that is not valid UTF-8 or holds NUL.
func truncate(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
