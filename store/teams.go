package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Role is what a member may do in the folders of a team.
type Role string

// The roles, from the least to the most: each may do what the one before
// may, and more (see package auth).
const (
	RoleViewer Role = "viewer" // see the team's folders
	RoleCopier Role = "copier" // and copy any visible image into them
	RoleEditor Role = "editor" // and edit and delete in them
)

// Roles lists the roles in increasing order.
var Roles = []Role{RoleViewer, RoleCopier, RoleEditor}

// Valid tells whether r is one of Roles.
func (r Role) Valid() bool {
	return r == RoleViewer || r == RoleCopier || r == RoleEditor
}

// Team owns folders; its members have a role in them.
type Team struct {
	ID        int64
	Name      string
	CreatedAt time.Time
	// Folders are the ids of the folders the team owns, sorted.
	Folders []string
}

// Membership is one team of a user, with the user's role in it.
type Membership struct {
	Team Team
	Role Role
}

// Member is one user of a team, with the role.
type Member struct {
	User User
	Role Role
}

// CreateTeam adds a team. Names are unique regardless of case (ErrExists).
func (s *Store) CreateTeam(ctx context.Context, name string) (Team, error) {
	if err := checkName("team name", name); err != nil {
		return Team{}, fmt.Errorf("store: create team: %w", err)
	}
	t := Team{Name: name, CreatedAt: fromMS(ms(s.now()))}
	err := s.peopleTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO teams (name, created_at) VALUES (?, ?) RETURNING id`,
			name, ms(t.CreatedAt)).Scan(&t.ID)
	})
	if isUnique(err) {
		return Team{}, fmt.Errorf("store: create team %q: %w", name, ErrExists)
	}
	if err != nil {
		return Team{}, fmt.Errorf("store: create team %q: %w", name, err)
	}
	return t, nil
}

// DeleteTeam deletes a team with its memberships and folder assignments.
func (s *Store) DeleteTeam(ctx context.Context, id int64) error {
	err := s.peopleTx(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, `DELETE FROM teams WHERE id = ?`, id)
	})
	if err != nil {
		return fmt.Errorf("store: delete team %d: %w", id, err)
	}
	return nil
}

// Team is the team with that id, with its folders.
func (s *Store) Team(ctx context.Context, id int64) (Team, error) {
	var t Team
	err := s.read(ctx, func(tx *sql.Tx) error {
		var created int64
		err := tx.QueryRowContext(ctx, `SELECT id, name, created_at FROM teams WHERE id = ?`, id).
			Scan(&t.ID, &t.Name, &created)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		t.CreatedAt = fromMS(created)
		folders, err := teamFolders(ctx, tx, `WHERE team_id = ?`, id)
		t.Folders = folders[t.ID]
		return err
	})
	if err != nil {
		return Team{}, fmt.Errorf("store: team %d: %w", id, err)
	}
	return t, nil
}

// Teams lists every team by name, with its folders.
func (s *Store) Teams(ctx context.Context) ([]Team, error) {
	var ts []Team
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, name, created_at FROM teams ORDER BY name, id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				t       Team
				created int64
			)
			if err := rows.Scan(&t.ID, &t.Name, &created); err != nil {
				return err
			}
			t.CreatedAt = fromMS(created)
			ts = append(ts, t)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		folders, err := teamFolders(ctx, tx, ``)
		for i := range ts {
			ts[i].Folders = folders[ts[i].ID]
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: teams: %w", err)
	}
	return ts, nil
}

// teamFolders maps team ids to their sorted folder ids, for the rows of
// team_folders that where (a WHERE clause or "") selects.
func teamFolders(ctx context.Context, tx *sql.Tx, where string, args ...any) (map[int64][]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT team_id, folder_id FROM team_folders `+where+` ORDER BY team_id, folder_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := make(map[int64][]string)
	for rows.Next() {
		var (
			team   int64
			folder string
		)
		if err := rows.Scan(&team, &folder); err != nil {
			return nil, err
		}
		m[team] = append(m[team], folder)
	}
	return m, rows.Err()
}

// AddMember makes user a member of team with role, or changes the role of
// a member. An unknown team or user is ErrNotFound.
func (s *Store) AddMember(ctx context.Context, teamID, userID int64, role Role) error {
	if !role.Valid() {
		return fmt.Errorf("store: add user %d to team %d: %w: role %q", userID, teamID, ErrInvalid, role)
	}
	err := s.peopleTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO team_members (team_id, user_id, role) VALUES (?, ?, ?)
ON CONFLICT (team_id, user_id) DO UPDATE SET role = excluded.role`, teamID, userID, string(role))
		return err
	})
	if isForeignKey(err) {
		return fmt.Errorf("store: add user %d to team %d: %w: no such user or team", userID, teamID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: add user %d to team %d: %w", userID, teamID, err)
	}
	return nil
}

// RemoveMember takes user out of team (ErrNotFound when not a member).
func (s *Store) RemoveMember(ctx context.Context, teamID, userID int64) error {
	err := s.peopleTx(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, `DELETE FROM team_members WHERE team_id = ? AND user_id = ?`, teamID, userID)
	})
	if err != nil {
		return fmt.Errorf("store: remove user %d from team %d: %w", userID, teamID, err)
	}
	return nil
}

// Members lists the members of a team by username.
func (s *Store) Members(ctx context.Context, teamID int64) ([]Member, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT m.role, u.id, u.username, u.password_hash, u.is_admin, u.disabled,
	u.created_at, u.password_changed_at
FROM team_members m JOIN users u ON u.id = m.user_id
WHERE m.team_id = ? ORDER BY u.username, u.id`, teamID)
	if err != nil {
		return nil, fmt.Errorf("store: members of team %d: %w", teamID, err)
	}
	defer rows.Close()
	var ms []Member
	for rows.Next() {
		var (
			m              Member
			role           string
			created, pwdAt int64
		)
		if err := rows.Scan(&role, &m.User.ID, &m.User.Username, &m.User.PasswordHash, &m.User.Admin,
			&m.User.Disabled, &created, &pwdAt); err != nil {
			return nil, fmt.Errorf("store: members of team %d: %w", teamID, err)
		}
		m.Role = Role(role)
		m.User.CreatedAt, m.User.PasswordChangedAt = fromMS(created), fromMS(pwdAt)
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: members of team %d: %w", teamID, err)
	}
	return ms, nil
}

// Memberships lists the teams of a user (with their folders) by team name,
// in one snapshot: what package auth needs to build the user's policy.
func (s *Store) Memberships(ctx context.Context, userID int64) ([]Membership, error) {
	var ms []Membership
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		ms, err = memberships(ctx, tx, userID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: memberships of user %d: %w", userID, err)
	}
	return ms, nil
}

func memberships(ctx context.Context, tx *sql.Tx, userID int64) ([]Membership, error) {
	rows, err := tx.QueryContext(ctx, `SELECT t.id, t.name, t.created_at, m.role
FROM team_members m JOIN teams t ON t.id = m.team_id
WHERE m.user_id = ? ORDER BY t.name, t.id`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ms []Membership
	for rows.Next() {
		var (
			m       Membership
			created int64
			role    string
		)
		if err := rows.Scan(&m.Team.ID, &m.Team.Name, &created, &role); err != nil {
			return nil, err
		}
		m.Team.CreatedAt, m.Role = fromMS(created), Role(role)
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	folders, err := teamFolders(ctx, tx,
		`WHERE team_id IN (SELECT team_id FROM team_members WHERE user_id = ?)`, userID)
	for i := range ms {
		ms[i].Team.Folders = folders[ms[i].Team.ID]
	}
	return ms, err
}

// AssignFolder gives a folder to a team (a no-op when it has it). The
// folder need not be cached yet. An unknown team is ErrNotFound.
func (s *Store) AssignFolder(ctx context.Context, teamID int64, folderID string) error {
	if folderID == "" {
		return fmt.Errorf("store: assign folder to team %d: %w: empty folder id", teamID, ErrInvalid)
	}
	err := s.peopleTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO team_folders (team_id, folder_id) VALUES (?, ?)
ON CONFLICT DO NOTHING`, teamID, folderID)
		return err
	})
	if isForeignKey(err) {
		return fmt.Errorf("store: assign folder %q to team %d: %w: no such team", folderID, teamID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: assign folder %q to team %d: %w", folderID, teamID, err)
	}
	return nil
}

// UnassignFolder takes a folder from a team (ErrNotFound when it had not).
func (s *Store) UnassignFolder(ctx context.Context, teamID int64, folderID string) error {
	err := s.peopleTx(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, `DELETE FROM team_folders WHERE team_id = ? AND folder_id = ?`, teamID, folderID)
	})
	if err != nil {
		return fmt.Errorf("store: unassign folder %q from team %d: %w", folderID, teamID, err)
	}
	return nil
}

// TeamFolders lists the folder ids a team owns, sorted.
func (s *Store) TeamFolders(ctx context.Context, teamID int64) ([]string, error) {
	var fs []string
	err := s.read(ctx, func(tx *sql.Tx) error {
		m, err := teamFolders(ctx, tx, `WHERE team_id = ?`, teamID)
		fs = m[teamID]
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: folders of team %d: %w", teamID, err)
	}
	return fs, nil
}

// SetFolderShared marks a folder readable by everyone, or not (both are
// no-ops when already so).
func (s *Store) SetFolderShared(ctx context.Context, folderID string, shared bool) error {
	if folderID == "" {
		return fmt.Errorf("store: share folder: %w: empty folder id", ErrInvalid)
	}
	err := s.peopleTx(ctx, func(tx *sql.Tx) error {
		var err error
		if shared {
			_, err = tx.ExecContext(ctx, `INSERT INTO shared_folders (folder_id, shared_at) VALUES (?, ?)
ON CONFLICT DO NOTHING`, folderID, ms(s.now()))
		} else {
			_, err = tx.ExecContext(ctx, `DELETE FROM shared_folders WHERE folder_id = ?`, folderID)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("store: set folder %q shared=%t: %w", folderID, shared, err)
	}
	return nil
}

// SharedFolders lists the ids of the shared folders, sorted.
func (s *Store) SharedFolders(ctx context.Context) ([]string, error) {
	var fs []string
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		fs, err = sharedFolders(ctx, tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: shared folders: %w", err)
	}
	return fs, nil
}

func sharedFolders(ctx context.Context, tx *sql.Tx) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT folder_id FROM shared_folders ORDER BY folder_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var fs []string
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			return nil, err
		}
		fs = append(fs, f)
	}
	return fs, rows.Err()
}
