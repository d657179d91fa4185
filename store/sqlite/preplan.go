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

// reserve marks rowids as read by an evaluation in flight, skipping those
// another has, and returns those it marked.
func (p *planInputs) reserve(rowids []int64) []int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reserved == nil {
		p.reserved = map[int64]struct{}{}
	}
	out := rowids[:0]
	for _, r := range rowids {
		if _, ok := p.reserved[r]; ok {
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

// reservedByOthers returns a test of whether a rowid is reserved by an
// evaluation other than the one that reserved mine.
func (p *planInputs) reservedByOthers(mine map[int64]bool) func(rowid int64) bool {
	p.mu.Lock()
	others := make(map[int64]struct{}, len(p.reserved))
	for r := range p.reserved {
		if !mine[r] {
			others[r] = struct{}{}
		}
	}
	p.mu.Unlock()
	return func(rowid int64) bool {
		_, ok := others[rowid]
		return ok
	}
}

// preloaded are due tickets read and planned before an evaluation's
// transaction.
type preloaded struct {
	seq     uint64 // commits counted before the read
	tickets []*watchdog.Ticket
	rowids  []int64 // of tickets, reserved
	byID    map[string]int
}

// part returns the preloaded tickets i to j (of pre's reservations, which
// stay pre's to release).
func (pre *preloaded) part(i, j int) *preloaded {
	p := &preloaded{seq: pre.seq, tickets: pre.tickets[i:j], rowids: pre.rowids[i:j], byID: make(map[string]int, j-i)}
	for k, t := range p.tickets {
		p.byID[t.ID] = k
	}
	return p
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
func (s *Store) preload(ctx context.Context, now time.Time, limit int) (pre *preloaded, err error) {
	// One read at a time picks, so that evaluations side by side take
	// different tickets.
	s.preloadMu.Lock()
	locked := true
	defer func() {
		if locked {
			s.preloadMu.Unlock()
		}
	}()
	pre = &preloaded{seq: s.inputs.count()}
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	others := s.inputs.reservedCount()
	var rowids []int64
	due, err := sqlstore.QueryAll(ctx, tx, func(sc sqlstore.Scanner) (*watchdog.Ticket, error) {
		var r int64
		t, err := scanTicket(rowidScanner{sc, &r})
		rowids = append(rowids, r)
		return t, err
	}, "SELECT rowid, "+ticketCols+" FROM tickets WHERE next_due_at IS NOT NULL AND next_due_at <= ? ORDER BY next_due_at LIMIT ?",
		micros(now), limit+others)
	if err != nil {
		return nil, fmt.Errorf("read due: %w", err)
	}
	byRow := make(map[int64]*watchdog.Ticket, len(due))
	for i, r := range rowids {
		byRow[r] = due[i]
	}
	kept := s.inputs.reserve(rowids)
	if len(kept) > limit {
		s.inputs.release(kept[limit:])
		kept = kept[:limit]
	}
	s.preloadMu.Unlock()
	locked = false
	pre.rowids = kept
	pre.byID = make(map[string]int, len(kept))
	for i, r := range kept {
		t := byRow[r]
		pre.tickets = append(pre.tickets, t)
		pre.byID[t.ID] = i
	}
	if err := loaders.FillPlan(ctx, tx, pre.tickets); err != nil {
		s.inputs.release(pre.rowids)
		return nil, err
	}
	return pre, nil
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
		defer s.inputs.release(pre.rowids)
		for _, t := range pre.tickets {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("sqlite: evaluate due: %w", err)
			}
			prePlan(t)
		}
	}
	if pre != nil && len(pre.tickets) > s.evalPart {
		return s.evaluateInParts(ctx, now, limit, plan, pre)
	}
	class := pre.class()
	return s.evaluateDue(ctx, func(ctx context.Context, op string, fn func(*sql.Tx) error) error {
		return s.inWriteAs(ctx, op, class, fn)
	}, now, limit, plan, pre)
}

// class is the writer gate's class of an evaluation of pre: dueWrite when
// one of its tickets is due on time, its next stage come due after the
// last write that found stages of it already past (BackfilledAt: an import
// of old tickets, a policy change), and normalWrite otherwise. Alerts due
// on time are late by every write that goes before them, so they go before
// the imports waiting; a backlog of backfilled alerts takes turns with
// them, as the engine's ingest gate lets it (watchdog.Config.IngestWhileBehind).
// Imports so wait while the evaluations are behind on alerts due on time:
// they add no due tickets meanwhile, and the evaluations stop once a claim
// comes back short. Without a read (nil) it is normalWrite.
func (pre *preloaded) class() writeClass {
	if pre == nil {
		return normalWrite
	}
	for _, t := range pre.tickets {
		if t.NextDueAt != nil && (t.BackfilledAt == nil || t.NextDueAt.After(*t.BackfilledAt)) {
			return dueWrite
		}
	}
	return normalWrite
}

// evaluationPart is how many preloaded tickets one write transaction of an
// evaluation records at most (Store.evalPart).
//
// A notifier may have only so many deliveries sent and not yet recorded
// (watchdog.Config.DeliveryBatch, 256 by default), and recording them
// waits for the one writer. With a pass of 1,000 tickets in one
// transaction, about that many could be recorded per pass while the pass
// recorded a thousand alerts or more, so under a bulk import, where the
// writer is the limit, Slack trailed the WebSocket stream by up to a
// second and a half. The parts of a pass hold the writer from the first to
// the last, letting only the urgent writes (the recordings) in between
// them (writeGate.yield).
const evaluationPart = 250

// evaluateInParts is evaluateDue for pre's tickets in parts of s.evalPart,
// each its own transaction, with the tickets of pre that a part finds
// written since the read replaced by others due, and the last part also
// taking others due up to limit. Each part is atomic. Once a part has
// committed, a later part's failure ends the evaluation with the alerts
// recorded so far and the error, so that the caller hands off their
// deliveries (see watchdog.DuePreplanner).
func (s *Store) evaluateInParts(ctx context.Context, now time.Time, limit int, plan watchdog.PlanFunc, pre *preloaded) ([]watchdog.Alert, error) {
	if err := s.makeRoom(ctx); err != nil {
		return nil, err
	}
	if err := s.gate.enter(ctx, pre.class()); err != nil {
		return nil, s.wrap(ctx, "evaluate due: begin", err)
	}
	held := true
	defer func() {
		if held {
			s.gate.leave()
		}
	}()
	var all []watchdog.Alert
	for start := 0; start < len(pre.tickets); start += s.evalPart {
		if start > 0 {
			if err := s.gate.yield(ctx); err != nil {
				held = false
				return all, s.wrap(ctx, "evaluate due: begin", err)
			}
		}
		end := min(start+s.evalPart, len(pre.tickets))
		n := end - start
		if end == len(pre.tickets) {
			n += max(limit-len(pre.tickets), 0)
		}
		alerts, err := s.evaluateDue(ctx, s.writeHeld, now, n, plan, pre.part(start, end))
		if err != nil {
			return all, err
		}
		all = append(all, alerts...)
	}
	return all, nil
}

// claimPreloaded returns the tickets of pre that no commit since its read
// may have changed, and a test of the rowids an evaluation may not claim
// besides them: theirs, and those another evaluation in flight has read.
// It runs in the write transaction tx.
func (s *Store) claimPreloaded(ctx context.Context, tx *sql.Tx, pre *preloaded) (valid []*watchdog.Ticket, skip func(rowid int64) bool, err error) {
	if err := s.inputs.lookOutside(ctx, tx); err != nil {
		return nil, nil, err
	}
	all, stale := s.inputs.stale(pre)
	mine := make(map[int64]bool, len(pre.rowids))
	taken := make(map[int64]bool, len(pre.rowids))
	for i, t := range pre.tickets {
		mine[pre.rowids[i]] = true
		if !all && !stale[t.ID] {
			valid = append(valid, t)
			taken[pre.rowids[i]] = true
		}
	}
	others := s.inputs.reservedByOthers(mine)
	return valid, func(rowid int64) bool { return taken[rowid] || others(rowid) }, nil
}

var _ watchdog.DuePreplanner = (*Store)(nil)
