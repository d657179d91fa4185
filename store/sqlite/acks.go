package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/internal/sqlstore"
)

const ackCols = "ticket_id, clock, cycle, acked_by, note, until, acked_at, reminded_at"

func scanAck(sc sqlstore.Scanner) (watchdog.Ack, error) {
	var (
		a         watchdog.Ack
		clock     string
		until     sql.NullInt64
		ackedAtUs int64
		reminded  sql.NullInt64
	)
	if err := sc.Scan(&a.TicketID, &clock, &a.Cycle, &a.By, &a.Note, &until, &ackedAtUs, &reminded); err != nil {
		return a, err
	}
	a.SLAClock, a.Until, a.At = watchdog.SLAClock(clock), fromNullMicros(until), fromMicros(ackedAtUs)
	a.RemindedAt = fromNullMicros(reminded)
	return a, nil
}

// Acknowledge stores acks of ticket id; see watchdog.Store.
func (s *Store) Acknowledge(ctx context.Context, id string, acks []watchdog.Ack) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	return s.inWrite(ctx, "acknowledge", func(tx *sql.Tx) error {
		if err := ticketExists(ctx, tx, id); err != nil {
			return err
		}
		for _, a := range acks {
			if _, err := tx.ExecContext(ctx, `INSERT INTO acks (`+ackCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)
				ON CONFLICT (ticket_id, clock) DO UPDATE SET cycle = excluded.cycle, acked_by = excluded.acked_by,
				note = excluded.note, until = excluded.until, acked_at = excluded.acked_at, reminded_at = NULL`,
				id, string(a.SLAClock), a.Cycle, a.By, a.Note, nullMicros(a.Until), micros(a.At)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Unacknowledge removes acks of ticket id; see watchdog.Store.
func (s *Store) Unacknowledge(ctx context.Context, id string, clocks []watchdog.SLAClock) (int, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	n := 0
	err := s.inWrite(ctx, "unacknowledge", func(tx *sql.Tx) error {
		if err := ticketExists(ctx, tx, id); err != nil {
			return err
		}
		names := make([]string, len(clocks))
		for i, c := range clocks {
			names[i] = string(c)
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM acks WHERE ticket_id = ? AND (? OR clock IN "+inIDs+")",
			id, len(clocks) == 0, idList[string](names))
		if err != nil {
			return err
		}
		m, err := res.RowsAffected()
		n = int(m)
		return err
	})
	return n, err
}

func ticketExists(ctx context.Context, tx *sql.Tx, id string) error {
	var one int
	err := tx.QueryRowContext(ctx, "SELECT 1 FROM tickets WHERE id = ?", id).Scan(&one)
	if err == sql.ErrNoRows {
		return fmt.Errorf("ticket %q: %w", id, watchdog.ErrNotFound)
	}
	return err
}

// PendingReminders returns acks whose reminder is pending; see watchdog.Store.
func (s *Store) PendingReminders(ctx context.Context, after string, limit int) ([]watchdog.Ack, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	out, err := sqlstore.QueryAll(ctx, s.r, scanAck, "SELECT a."+strings.ReplaceAll(ackCols, ", ", ", a.")+
		" FROM acks a JOIN tickets t ON t.id = a.ticket_id WHERE a.reminded_at IS NULL AND t.open AND a.ticket_id > ?"+
		" ORDER BY a.ticket_id, a.clock LIMIT ?", after, limit)
	if err != nil {
		return nil, s.wrap(ctx, "pending reminders", err)
	}
	return out, nil
}

// MarkReminded records a reminder once; see watchdog.Store.
func (s *Store) MarkReminded(ctx context.Context, ack watchdog.Ack, at time.Time) (bool, error) {
	if err := s.check(ctx); err != nil {
		return false, err
	}
	var n int64
	err := s.inWrite(ctx, "mark reminded", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE acks SET reminded_at = ? WHERE ticket_id = ? AND clock = ? AND acked_at = ? AND reminded_at IS NULL",
			micros(at), ack.TicketID, string(ack.SLAClock), micros(ack.At))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n == 1, err
}
