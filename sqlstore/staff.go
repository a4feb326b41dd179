package sqlstore

import (
	"context"
	"database/sql"

	"standing"
)

// CreateStaff adds a reviewer or admin with a password hash. ECONFLICT for a taken email.
func (s *Store) CreateStaff(ctx context.Context, u standing.StaffUser, passwordHash string) (standing.StaffUser, error) {
	err := s.write(ctx, func(t *tx) error {
		u.ID = standing.NewID("stf", t.now)
		u.CreatedAt = t.now
		_, err := t.exec("INSERT INTO staff_users (id, email, name, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
			u.ID, u.Email, u.Name, u.Role, passwordHash, ts(u.CreatedAt))
		if isUnique(err) {
			return standing.FieldErrorf(standing.ECONFLICT, "email", "a staff user with the email %s exists", u.Email)
		}
		return err
	})
	return u, err
}

const staffColumns = "id, email, name, role, disabled, created_at"

func scanStaff(row interface{ Scan(...any) error }, extra ...any) (standing.StaffUser, error) {
	var u standing.StaffUser
	var disabled int
	var created int64
	err := row.Scan(append([]any{&u.ID, &u.Email, &u.Name, &u.Role, &disabled, &created}, extra...)...)
	u.Disabled, u.CreatedAt = disabled != 0, fromTS(created)
	return u, err
}

// StaffCredentials returns the staff user with the email and the password hash.
func (s *Store) StaffCredentials(ctx context.Context, email string) (standing.StaffUser, string, error) {
	var hash string
	u, err := scanStaff(s.queryRow(ctx, "SELECT "+staffColumns+", password_hash FROM staff_users WHERE email = ?", email), &hash)
	if err == sql.ErrNoRows {
		return u, "", standing.Errorf(standing.ENOTFOUND, "no staff user with that email")
	}
	return u, hash, translate(err)
}

// Staff returns one staff user; ENOTFOUND if none.
func (s *Store) Staff(ctx context.Context, id string) (standing.StaffUser, error) {
	u, err := scanStaff(s.queryRow(ctx, "SELECT "+staffColumns+" FROM staff_users WHERE id = ?", id))
	if err == sql.ErrNoRows {
		return u, standing.Errorf(standing.ENOTFOUND, "no staff user %q", id)
	}
	return u, translate(err)
}

// StaffUsers lists the staff, by name.
func (s *Store) StaffUsers(ctx context.Context) ([]standing.StaffUser, error) {
	rows, err := s.query(ctx, "SELECT "+staffColumns+" FROM staff_users ORDER BY name, id")
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []standing.StaffUser
	for rows.Next() {
		u, err := scanStaff(rows)
		if err != nil {
			return nil, translate(err)
		}
		out = append(out, u)
	}
	return out, translate(rows.Err())
}

// CreateStaffSession stores a console session (the hash of its token).
func (s *Store) CreateStaffSession(ctx context.Context, id, staffID string, expires int64) error {
	return s.write(ctx, func(t *tx) error {
		_, err := t.exec("INSERT INTO staff_sessions (id, staff_id, created_at, expires_at) VALUES (?, ?, ?, ?)", id, staffID, ts(t.now), expires)
		return err
	})
}

// StaffSession returns the staff user of a live console session; ENOTFOUND otherwise.
func (s *Store) StaffSession(ctx context.Context, id string) (standing.StaffUser, error) {
	var expires int64
	var revoked sql.NullInt64
	u, err := scanStaff(s.queryRow(ctx, `SELECT u.id, u.email, u.name, u.role, u.disabled, u.created_at, s.expires_at, s.revoked_at
		FROM staff_sessions s JOIN staff_users u ON u.id = s.staff_id WHERE s.id = ?`, id), &expires, &revoked)
	if err == sql.ErrNoRows || (err == nil && (revoked.Valid || u.Disabled || ts(s.clock.Now()) >= expires)) {
		return standing.StaffUser{}, standing.Errorf(standing.ENOTFOUND, "the console session ended")
	}
	return u, translate(err)
}

// RevokeStaffSession ends a console session.
func (s *Store) RevokeStaffSession(ctx context.Context, id string) error {
	return s.write(ctx, func(t *tx) error {
		_, err := t.exec("UPDATE staff_sessions SET revoked_at = ? WHERE id = ?", ts(t.now), id)
		return err
	})
}
