package sqlite

import "context"

// ExecForTest runs a statement on the writer, for tests that need to put a
// file in a state the API cannot produce.
func (s *Store) ExecForTest(ctx context.Context, q string, args ...any) error {
	_, err := s.w.ExecContext(ctx, q, args...)
	return err
}
