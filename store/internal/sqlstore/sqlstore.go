// Package sqlstore is the half of a SQL watchdog.Store that does not depend
// on the SQL dialect: the rules of the watchdog.Store contract that
// store/sqlite and store/postgres apply alike (merging an Ingest batch with
// watchdog.Ticket.Merge, recording a plan's alerts and deliveries, checking
// delivery outcomes) and reading rows with database/sql. Each store keeps
// its own SQL.
package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"sync"

	"github.com/ticket-watchdog/watchdog"
)

// Scanner is a row to scan: *sql.Row or *sql.Rows.
type Scanner = interface{ Scan(dest ...any) error }

// RowScan is a row's scan destinations (Dest) and the value they make
// (Value), which shares nothing with them, so they can take the next row.
type RowScan[T any] interface {
	Dest() []any
	Value() (T, error)
}

// ScanPool keeps a row type's scan destinations for reuse. Scan takes them
// as pointers through an interface, so each row's set, and the slice
// holding them, were heap allocations of their own, and a pass over a
// burst scans thousands of rows.
type ScanPool[T any, S RowScan[T]] struct {
	pool sync.Pool
}

// pooledScan is one set of destinations and its Dest slice.
type pooledScan[T any, S RowScan[T]] struct {
	s    S
	dest []any
}

// NewScanPool returns a pool of the destinations fresh makes.
func NewScanPool[T any, S RowScan[T]](fresh func() S) *ScanPool[T, S] {
	p := &ScanPool[T, S]{}
	p.pool.New = func() any {
		s := fresh()
		return &pooledScan[T, S]{s: s, dest: s.Dest()}
	}
	return p
}

// Scan scans one row and returns its value.
func (p *ScanPool[T, S]) Scan(sc Scanner) (T, error) {
	ps := p.pool.Get().(*pooledScan[T, S])
	defer p.pool.Put(ps)
	if err := sc.Scan(ps.dest...); err != nil {
		var zero T
		return zero, err
	}
	return ps.s.Value()
}

// Queryer is what reads need from a pool, a connection or a transaction.
type Queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// QueryAll runs query and scans every row with scan.
func QueryAll[T any](ctx context.Context, q Queryer, scan func(Scanner) (T, error), query string, args ...any) ([]T, error) {
	var out []T
	err := eachRow(ctx, q, scan, func(v T) { out = append(out, v) }, query, args...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eachRow runs query and hands every row, scanned with scan, to use.
func eachRow[T any](ctx context.Context, q Queryer, scan func(Scanner) (T, error), use func(T), query string, args ...any) error {
	return EachRow(ctx, q, query, func(rows *sql.Rows) error {
		v, err := scan(rows)
		if err != nil {
			return err
		}
		use(v)
		return nil
	}, args...)
}

// EachRow runs query and passes each row to scan, for queries whose rows
// do not map to one value (aggregates read into a report's groups).
func EachRow(ctx context.Context, q Queryer, query string, scan func(*sql.Rows) error, args ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	return ScanRows(rows, scan)
}

// ScanRows passes each of rows to scan, then closes them: the row loop of
// every query helper here, and of statements run by other means.
func ScanRows(rows *sql.Rows, scan func(*sql.Rows) error) error {
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}

// ReportKeys is the select list of a report's key columns
// (ReportKeyCols): each column q groups by, ” for the others.
func ReportKeys(q watchdog.SLAReportQuery) string {
	cols := make([]string, 0, len(ReportKeyCols))
	for _, k := range ReportKeyCols {
		if q.Groups(k) {
			cols = append(cols, k)
		} else {
			cols = append(cols, "''")
		}
	}
	return strings.Join(cols, ", ")
}
