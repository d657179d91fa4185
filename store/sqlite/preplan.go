package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/internal/sqlstore"
)

// Planning due tickets before the write transaction.
//
// An evaluation pass held the one writer while it loaded its due tickets
// and planned them, in Go, and every other write waited: at three times
// the lateness burst that was about a third of the pass. EvaluateDuePreplanned
// reads and plans the due tickets first, on a reader, beside the pass that
// holds the writer; its own transaction then records the plans of the
// tickets that nothing has written since that read, and loads and plans
// only the others.
//
// What may have written a ticket since is known from the writes: every
// write transaction of this Store says at its commit which tickets'
// plan inputs (the row, timeline, messages, alerts, acks and outcomes) it
// may have changed: none (a notifier's delivery bookkeeping), some (an
// ingest or an evaluation, by ticket id) or any (everything else, and any
// commit whose kind is not known). Writes by another connection to the
// file (another process, or another Store) show in the writer's PRAGMA
// data_version, and count as changing any ticket.

// writeNote is what the write transaction in progress may change of the
// plans' inputs. Only the writer gate's holder reads or sets it; the zero
// value means any ticket.
type writeNote struct {
	kind noteKind
	ids  []string // noteTickets: the tickets
}

type noteKind int

const (
	noteAny noteKind = iota
	noteNone
	noteTickets
)

// noteTickets says that the write transaction in progress changes the plan
// inputs of the tickets ids only.
func (s *Store) noteTickets(ids []string) { s.wnote = writeNote{kind: noteTickets, ids: ids} }

// noteNoPlanInputs says that the write transaction in progress changes no
// plan's inputs.
func (s *Store) noteNoPlanInputs() { s.wnote = writeNote{kind: noteNone} }

// recentCommits is how many commits of some tickets planInputs keeps;
// reads older than the oldest it dropped are all stale.
const recentCommits = 64

// planInputs counts the commits that may have changed plan inputs, so
// that a read can tell which of its tickets are stale.
type planInputs struct {
	mu  sync.Mutex
	seq uint64 // commits counted
	// any is the count at the last commit that may have changed any
	// ticket, dropped the last count dropped from recent.
	any, dropped uint64
	recent       []touched // commits of some tickets after any, oldest first
	// reserved are the rowids of the tickets that evaluations in flight
	// read, so that another evaluation reads and claims others.
	reserved map[int64]struct{}
	// dataVersion is the writer's PRAGMA data_version at its last look.
	dataVersion int64
	looked      bool
}

type touched struct {
	seq uint64
	ids []string
}

// committed counts a commit that changed what n says.
func (p *planInputs) committed(n writeNote) {
	if n.kind == noteNone {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	if n.kind == noteAny {
		p.any, p.recent = p.seq, p.recent[:0]
		return
	}
	if len(p.recent) == recentCommits {
		p.dropped = p.recent[0].seq
		p.recent = append(p.recent[:0], p.recent[1:]...)
	}
	p.recent = append(p.recent, touched{seq: p.seq, ids: n.ids})
}

// count is the number of commits counted so far. A read that starts after
// it sees at least those commits.
func (p *planInputs) count() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seq
}

// stale returns the tickets of pre that commits counted after pre.seq may
// have changed (all reports every one).
func (p *planInputs) stale(pre *preloaded) (all bool, ids map[string]bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.any > pre.seq || p.dropped > pre.seq {
		return true, nil
	}
	for _, c := range p.recent {
		if c.seq <= pre.seq {
			continue
		}
		for _, id := range c.ids {
			if _, ok := pre.byID[id]; ok {
				if ids == nil {
					ids = map[string]bool{}
				}
				ids[id] = true
			}
		}
	}
	return false, ids
}

// lookOutside reads the writer's PRAGMA data_version through q (a
// transaction on the writer connection, or the writer's pool of one) and
// counts a commit of any ticket when it moved since the last look: another
// connection wrote the file meanwhile.
func (p *planInputs) lookOutside(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) error {
	var v int64
	if err := q.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil {
		return fmt.Errorf("data version: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.looked || v != p.dataVersion {
		p.looked, p.dataVersion = true, v
		p.seq++
		p.any, p.recent = p.seq, p.recent[:0]
	}
	return nil
}

// reserveFree reserves up to n of rowids, in order, that are neither in
// taken nor reserved already, and returns them: the tickets an evaluation
// claims besides those it read before, so that an evaluation reading
// meanwhile takes others.
func (p *planInputs) reserveFree(rowids []int64, taken map[int64]bool, n int) []int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reserved == nil {
		p.reserved = map[int64]struct{}{}
	}
	var out []int64
	for _, r := range rowids {
		if len(out) == n {
			break
		}
		if _, ok := p.reserved[r]; ok || taken[r] {
			continue
		}
		p.reserved[r] = struct{}{}
		out = append(out, r)
	}
	return out
}

// reservedCount is how many rowids are reserved.
func (p *planInputs) reservedCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.reserved)
}

// release ends the reservations of rowids.
func (p *planInputs) release(rowids []int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range rowids {
		delete(p.reserved, r)
	}
}

// preloaded are due tickets read and planned before an evaluation's
// transaction.
type preloaded struct {
	seq     uint64 // commits counted before the read
	tickets []*watchdog.Ticket
	rowids  []int64 // of tickets
	held    []int64 // the rowids still reserved for the evaluation
	byID    map[string]int
}

// rowidScanner scans a row's leading rowid, then the rest with scan.
type rowidScanner struct {
	sc    sqlstore.Scanner
	rowid *int64
}

func (r rowidScanner) Scan(dest ...any) error {
	return r.sc.Scan(append([]any{r.rowid}, dest...)...)
}

// preload reads, on a reader, up to limit tickets due at now that no other
// evaluation in flight has read, loaded for planning, and reserves them.
// The tickets are as the commits counted up to pre.seq left them, at least.
func (s *Store) preload(ctx context.Context, now time.Time, limit int) (*preloaded, error) {
	pre := &preloaded{seq: s.inputs.count()}
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	// The due rowids first, from the index alone: those that evaluations
	// in flight hold are skipped before any row is read. One evaluation
	// at a time picks, so that evaluations side by side take different
	// tickets.
	s.preloadMu.Lock()
	rowids, err := dueRowids(ctx, tx, now, limit+s.inputs.reservedCount())
	if err == nil {
		pre.rowids = s.inputs.reserveFree(rowids, nil, limit)
	}
	s.preloadMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("read due: %w", err)
	}
	pre.held = pre.rowids
	if len(pre.rowids) == 0 {
		return pre, nil
	}
	if pre.tickets, err = ticketsByRowid(ctx, tx, pre.rowids); err != nil {
		s.inputs.release(pre.rowids)
		return nil, fmt.Errorf("read due: %w", err)
	}
	pre.byID = make(map[string]int, len(pre.tickets))
	for i, t := range pre.tickets {
		pre.byID[t.ID] = i
	}
	if err := loaders.FillPlan(ctx, tx, pre.tickets); err != nil {
		s.inputs.release(pre.rowids)
		return nil, err
	}
	return pre, nil
}

// dueRowids returns the rowids of up to limit tickets due at now, oldest
// due first, read from tickets_next_due_at_idx alone.
func dueRowids(ctx context.Context, q sqlstore.Queryer, now time.Time, limit int) ([]int64, error) {
	var out []int64
	err := sqlstore.EachRow(ctx, q, "SELECT rowid FROM tickets WHERE next_due_at IS NOT NULL AND next_due_at <= ? ORDER BY next_due_at LIMIT ?",
		func(rows *sql.Rows) error {
			var r int64
			if err := rows.Scan(&r); err != nil {
				return err
			}
			out = append(out, r)
			return nil
		}, micros(now), limit)
	return out, err
}

// ticketsByRowid reads the tickets of rowids, in that order.
func ticketsByRowid(ctx context.Context, q sqlstore.Queryer, rowids []int64) ([]*watchdog.Ticket, error) {
	byRow := make(map[int64]*watchdog.Ticket, len(rowids))
	var r int64
	if _, err := sqlstore.QueryAll(ctx, q, func(sc sqlstore.Scanner) (*watchdog.Ticket, error) {
		t, err := scanTicket(rowidScanner{sc, &r})
		if err == nil {
			byRow[r] = t
		}
		return t, err
	}, "SELECT rowid, "+ticketCols+" FROM tickets WHERE rowid IN "+inIDs, idList[int64](rowids)); err != nil {
		return nil, err
	}
	out := make([]*watchdog.Ticket, 0, len(rowids))
	for _, r := range rowids {
		if t, ok := byRow[r]; ok {
			out = append(out, t)
		}
	}
	if len(out) != len(rowids) {
		return nil, fmt.Errorf("%d of %d due tickets read", len(out), len(rowids))
	}
	return out, nil
}

// EvaluateDuePreplanned is EvaluateDue with the due tickets read and
// planned (prePlan) before the write transaction, which plans again only
// those written since. See watchdog.DuePreplanner.
func (s *Store) EvaluateDuePreplanned(ctx context.Context, now time.Time, limit int, prePlan, plan watchdog.PlanFunc) ([]watchdog.Alert, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	pre, err := s.preload(ctx, now, limit)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, s.wrap(ctx, "evaluate due: read", err)
		}
		// The transaction reads what it needs itself.
		pre = nil
	}
	if pre != nil {
		defer func() { s.inputs.release(pre.held) }()
		for _, t := range pre.tickets {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("sqlite: evaluate due: %w", err)
			}
			prePlan(t)
		}
	}
	return s.evaluateDue(ctx, now, limit, plan, pre)
}

// claimPreloaded returns the tickets of pre that no commit since its read
// may have changed, with their rowids. It runs in the write transaction
// tx.
func (s *Store) claimPreloaded(ctx context.Context, tx *sql.Tx, pre *preloaded) (valid []*watchdog.Ticket, taken map[int64]bool, err error) {
	if err := s.inputs.lookOutside(ctx, tx); err != nil {
		return nil, nil, err
	}
	all, stale := s.inputs.stale(pre)
	taken = make(map[int64]bool, len(pre.rowids))
	var kept, freed []int64
	for i, t := range pre.tickets {
		if !all && !stale[t.ID] {
			valid = append(valid, t)
			taken[pre.rowids[i]] = true
			kept = append(kept, pre.rowids[i])
		} else {
			freed = append(freed, pre.rowids[i])
		}
	}
	// The stale ones may be claimed again, as any other due ticket.
	s.inputs.release(freed)
	pre.held = kept
	return valid, taken, nil
}

var _ watchdog.DuePreplanner = (*Store)(nil)
