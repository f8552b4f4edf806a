package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/imagedash/imagedash/cloud"
)

// Exact name look-ups for the copy planner: "is there an image named N in
// folder F of service S", for many names at once, answered by the indexes
// images_folder_name and operations_folder_name (migration 012), never by
// the search box's text match, so the answer holds whatever the number of
// similar names.

// nameChunk bounds the names of one IN list (SQLite's variable limit is
// far above; a bulk copy plans at most a few hundred).
const nameChunk = 500

// deleteAction is tracker.ActionDelete (store cannot import tracker): an
// image being deleted frees its name rather than taking it.
const deleteAction = "image.delete"

// ImageNamesTaken are the names of names that an image cached in folder of
// svc already has, each with that image's id.
func (s *Store) ImageNamesTaken(ctx context.Context, svc cloud.Service, folder string, names []string) (map[string]string, error) {
	out := map[string]string{}
	for chunk := range slices.Chunk(names, nameChunk) {
		args := []any{string(svc), folder}
		for _, n := range chunk {
			args = append(args, n)
		}
		rows, err := s.r.QueryContext(ctx, imageNamesSQL(len(chunk)), args...)
		if err != nil {
			return nil, fmt.Errorf("store: image names in %s: %w", folder, err)
		}
		for rows.Next() {
			var name, id string
			if err := rows.Scan(&name, &id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: image names in %s: %w", folder, err)
			}
			out[name] = id
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("store: image names in %s: %w", folder, err)
		}
	}
	return out, nil
}

// OpenOperationNames are the names of names that an unfinished operation
// (other than a delete) is giving an image in folder of svc: a copy being
// made, a rename in flight. Each maps to that operation's id.
func (s *Store) OpenOperationNames(ctx context.Context, svc cloud.Service, folder string, names []string) (map[string]int64, error) {
	open := openStateArgs()
	out := map[string]int64{}
	for chunk := range slices.Chunk(names, nameChunk) {
		args := []any{folder}
		for _, n := range chunk {
			args = append(args, n)
		}
		args = append(args, string(svc), deleteAction)
		args = append(args, open...)
		rows, err := s.r.QueryContext(ctx, openOpNamesSQL(len(chunk), len(open)), args...)
		if err != nil {
			return nil, fmt.Errorf("store: open operation names in %s: %w", folder, err)
		}
		for rows.Next() {
			var name string
			var id int64
			if err := rows.Scan(&name, &id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: open operation names in %s: %w", folder, err)
			}
			out[name] = id
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("store: open operation names in %s: %w", folder, err)
		}
	}
	return out, nil
}

// imageNamesSQL asks which of n names an image of (service, folder_id)
// has: a seek per name in images_folder_name.
func imageNamesSQL(n int) string {
	return `SELECT name, id FROM images INDEXED BY images_folder_name
WHERE service = ? AND folder_id = ? AND name IN (` + placeholders(n) + `)`
}

// openOpNamesSQL asks which of n names an operation in one of open states
// of (folder_id, service) gives an image: a seek per name in
// operations_folder_name, states and action read from the index.
func openOpNamesSQL(n, open int) string {
	return `SELECT image_name, id FROM operations INDEXED BY operations_folder_name
WHERE folder_id = ? AND image_name IN (` + placeholders(n) + `) AND service = ? AND action != ?
  AND state IN (` + placeholders(open) + `)`
}

// openStateArgs are the states an unfinished operation may be in, as
// arguments: whatever OpState.Open says, so the query follows the state
// machine.
func openStateArgs() []any {
	var open []any
	for _, st := range OpStates {
		if st.Open() {
			open = append(open, string(st))
		}
	}
	return open
}
