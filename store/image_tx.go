package store

import (
	"context"
	"database/sql"
	"slices"
	"strings"

	"github.com/imagedash/imagedash/readmodel"
)

// imageTx runs write, which changes at most the images refs names, in one
// transaction, and then publishes those images' committed rows to the
// read model. A read-back that fails fails the write.
func (s *Store) imageTx(ctx context.Context, refs []imageRef, write func(tx *sql.Tx) error) error {
	refs = slices.Compact(slices.SortedFunc(slices.Values(refs), func(a, b imageRef) int {
		if a.svc != b.svc {
			return strings.Compare(string(a.svc), string(b.svc))
		}
		return strings.Compare(a.id, b.id)
	})) // an image named twice counts once
	s.imageWrites.Lock()
	defer s.imageWrites.Unlock()
	var change readmodel.Change
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := write(tx); err != nil {
			return err
		}
		var err error
		change, err = s.changeOf(ctx, tx, refs)
		return err
	})
	if err != nil {
		return err
	}
	s.publish(change)
	return nil
}
