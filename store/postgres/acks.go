package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/internal/sqlstore"
)

const ackCols = "ticket_id, clock, cycle, acked_by, note, until, acked_at, reminded_at"

func scanAck(sc sqlstore.Scanner) (watchdog.Ack, error) {
	var (
		a     watchdog.Ack
		clock string
		until sql.NullTime
		rem   sql.NullTime
	)
	if err := sc.Scan(&a.TicketID, &clock, &a.Cycle, &a.By, &a.Note, &until, &a.At, &rem); err != nil {
		return a, err
	}
	a.SLAClock, a.Until, a.At, a.RemindedAt = watchdog.SLAClock(clock), nullTime(until), a.At.UTC(), nullTime(rem)
	return a, nil
}

// Acknowledge stores acks of ticket id; see watchdog.Store.
func (s *Store) Acknowledge(ctx context.Context, id string, acks []watchdog.Ack) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	err := rerun(ctx, func() error {
		tx, err := s.db.BeginTxx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if err := ticketExists(ctx, tx, id); err != nil {
			return err
		}
		for _, a := range acks {
			var until *sql.NullTime
			if a.Until != nil {
				until = &sql.NullTime{Time: us(*a.Until), Valid: true}
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO acks (`+ackCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)
				ON CONFLICT (ticket_id, clock) DO UPDATE SET cycle = excluded.cycle, acked_by = excluded.acked_by,
				note = excluded.note, until = excluded.until, acked_at = excluded.acked_at, reminded_at = NULL`,
				id, string(a.SLAClock), a.Cycle, a.By, a.Note, until, us(a.At)); err != nil {
				return err
			}
		}
		return tx.Commit()
	})
	if err != nil {
		return s.fail(ctx, "acknowledge", err)
	}
	return nil
}

// Unacknowledge removes acks of ticket id; see watchdog.Store.
func (s *Store) Unacknowledge(ctx context.Context, id string, clocks []watchdog.SLAClock) (int, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	n := 0
	err := rerun(ctx, func() error {
		tx, err := s.db.BeginTxx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if err := ticketExists(ctx, tx, id); err != nil {
			return err
		}
		names := make([]string, len(clocks))
		for i, c := range clocks {
			names[i] = string(c)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM acks WHERE ticket_id = $1 AND ($2 OR clock = ANY($3))`,
			id, len(clocks) == 0, pq.StringArray(names))
		if err != nil {
			return err
		}
		m, err := res.RowsAffected()
		if err != nil {
			return err
		}
		n = int(m)
		return tx.Commit()
	})
	if err != nil {
		return 0, s.fail(ctx, "unacknowledge", err)
	}
	return n, nil
}

func ticketExists(ctx context.Context, tx queryer, id string) error {
	var one int
	err := tx.QueryRowContext(ctx, "SELECT 1 FROM tickets WHERE id = $1", id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("ticket %q: %w", id, watchdog.ErrNotFound)
	}
	return err
}

// PendingReminders returns acks whose reminder is pending; see watchdog.Store.
func (s *Store) PendingReminders(ctx context.Context, after string, limit int) ([]watchdog.Ack, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	out, err := sqlstore.QueryAll(ctx, s.db, scanAck, `SELECT a.`+strings.ReplaceAll(ackCols, ", ", ", a.")+`
		FROM acks a JOIN tickets t ON t.id = a.ticket_id WHERE a.reminded_at IS NULL AND t.open AND a.ticket_id > $1
		ORDER BY a.ticket_id, a.clock LIMIT $2`, after, limit)
	if err != nil {
		return nil, s.fail(ctx, "pending reminders", err)
	}
	return out, nil
}

// MarkReminded records a reminder once; see watchdog.Store.
func (s *Store) MarkReminded(ctx context.Context, ack watchdog.Ack, at time.Time) (bool, error) {
	if err := s.check(ctx); err != nil {
		return false, err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE acks SET reminded_at = $1
		WHERE ticket_id = $2 AND clock = $3 AND acked_at = $4 AND reminded_at IS NULL`,
		us(at), ack.TicketID, string(ack.SLAClock), us(ack.At))
	if err != nil {
		return false, s.fail(ctx, "mark reminded", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.fail(ctx, "mark reminded", err)
	}
	return n == 1, nil
}
