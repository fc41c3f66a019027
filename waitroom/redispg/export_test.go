package redispg

import "context"

// RepairStaleNow runs one pass of the repair loop, so tests need not wait
// for its tick.
func (s *Store) RepairStaleNow(ctx context.Context) { s.repairStale(ctx) }
