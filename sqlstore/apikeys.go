package sqlstore

import (
	"context"
	"database/sql"
	"strings"

	"standing"
)

// CreateAPIKey stores a key, with its reviewer if it has one, and the hash of its secret;
// ENOTFOUND naming the reviewer if there is no such console user.
func (s *Store) CreateAPIKey(ctx context.Context, k standing.APIKey, secretHash string) error {
	return s.write(ctx, func(t *tx) error {
		_, err := t.exec("INSERT INTO api_keys (id, name, prefix, secret_hash, scopes, reviewer_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
			k.ID, k.Name, k.Prefix, secretHash, strings.Join(k.Scopes, " "), nullString(k.ReviewerID), ts(k.CreatedAt))
		if isForeignKey(err) {
			return standing.FieldErrorf(standing.ENOTFOUND, "reviewer", "there is no console user %q", k.ReviewerID)
		}
		return err
	})
}

const apiKeyColumns = "id, name, prefix, scopes, reviewer_id, created_at, revoked_at"

func scanAPIKey(row interface{ Scan(...any) error }) (standing.APIKey, error) {
	var k standing.APIKey
	var scopes string
	var reviewer sql.NullString
	var created int64
	var revoked sql.NullInt64
	if err := row.Scan(&k.ID, &k.Name, &k.Prefix, &scopes, &reviewer, &created, &revoked); err != nil {
		return k, err
	}
	k.Scopes, k.ReviewerID = strings.Fields(scopes), reviewer.String
	k.CreatedAt, k.RevokedAt = fromTS(created), fromNullTS(revoked)
	return k, nil
}

// APIKeyByHash returns the key whose secret hashes to hash; ENOTFOUND if none.
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (standing.APIKey, error) {
	k, err := scanAPIKey(s.queryRow(ctx, "SELECT "+apiKeyColumns+" FROM api_keys WHERE secret_hash = ?", hash))
	if err == sql.ErrNoRows {
		return k, standing.Errorf(standing.ENOTFOUND, "no such API key")
	}
	return k, translate(err)
}

// APIKeys lists the keys, oldest first.
func (s *Store) APIKeys(ctx context.Context) ([]standing.APIKey, error) {
	rows, err := s.query(ctx, "SELECT "+apiKeyColumns+" FROM api_keys ORDER BY created_at, id")
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []standing.APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, translate(err)
		}
		out = append(out, k)
	}
	return out, translate(rows.Err())
}

// RevokeAPIKey revokes a key; ENOTFOUND if there is none.
func (s *Store) RevokeAPIKey(ctx context.Context, id string) error {
	return s.write(ctx, func(t *tx) error {
		res, err := t.exec("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", ts(t.now), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return standing.Errorf(standing.ENOTFOUND, "no active API key %q", id)
		}
		return nil
	})
}
