package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store"
)

// reportUsage is the report subcommand's help.
const reportUsage = `Usage: watchdogd report [flags]

Prints the SLA report (as GET /reports/sla answers it) from the store of
DATABASE_URL (or -database-url): a table, or CSV with -format csv.
-outcomes prints the outcome rows themselves as CSV instead.

Flags:
`

// reportCmd runs "watchdogd report".
func reportCmd(ctx context.Context, args []string, stdout, stderr io.Writer, lookup func(string) (string, bool)) int {
	fs := flag.NewFlagSet("watchdogd report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, reportUsage); fs.PrintDefaults() }
	var (
		from, to, by, groupBy, tz, format, dbURL string
		outcomes                                 bool
	)
	fs.StringVar(&from, "from", "", "start of the range, RFC 3339 or a date (default: 30 days before -to)")
	fs.StringVar(&to, "to", "", "end of the range (exclusive), RFC 3339 or a date (default: now)")
	fs.StringVar(&by, "by", "stopped", "select stopped clocks by their stop (stopped) or every clock by its start (started)")
	fs.StringVar(&groupBy, "group-by", "tier,week", "comma-separated: policy, tier, priority, sla_type, calendar and one of day, week, month")
	fs.StringVar(&tz, "tz", "UTC", "time zone of periods and dates: an IANA name or an offset such as +05:30")
	fs.StringVar(&format, "format", "table", "table or csv")
	fs.StringVar(&dbURL, "database-url", "", "the store (default: DATABASE_URL from the environment or .env)")
	fs.BoolVar(&outcomes, "outcomes", false, "print the outcome rows as CSV")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	q, err := reportQuery(from, to, by, groupBy, tz)
	if err == nil && format != "table" && format != "csv" {
		err = errors.New("-format must be table or csv")
	}
	if err != nil {
		fmt.Fprintln(stderr, "watchdogd report:", err)
		return 2
	}
	if dbURL == "" {
		env, err := loadEnvironment(".env", lookup)
		if err != nil {
			fmt.Fprintln(stderr, "watchdogd report:", err)
			return 1
		}
		dbURL = env.get("DATABASE_URL")
	}
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		fmt.Fprintln(stderr, "watchdogd report:", err)
		return 1
	}
	defer st.Close()
	eng, err := watchdog.New(st, nil)
	if err != nil {
		fmt.Fprintln(stderr, "watchdogd report:", err)
		return 1
	}
	if outcomes {
		err = printOutcomes(ctx, eng, q, stdout)
	} else {
		err = printReport(ctx, eng, q, format, stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "watchdogd report:", err)
		return 1
	}
	return 0
}

// reportQuery reads the report flags, as the API reads its parameters.
func reportQuery(from, to, by, groupBy, tz string) (watchdog.SLAReportQuery, error) {
	loc, err := watchdog.ParseTimeZone(tz)
	if err != nil {
		return watchdog.SLAReportQuery{}, fmt.Errorf("-tz: %w", err)
	}
	q := watchdog.SLAReportQuery{By: by, Location: loc, Now: time.Now()}
	for _, f := range []struct {
		name, v string
		dst     *time.Time
	}{{"-from", from, &q.From}, {"-to", to, &q.To}} {
		if f.v == "" {
			continue
		}
		if *f.dst, err = watchdog.ParseReportTime(f.v, loc); err != nil {
			return q, fmt.Errorf("%s: %w", f.name, err)
		}
	}
	for _, k := range strings.Split(groupBy, ",") {
		if k = strings.TrimSpace(k); k != "" {
			q.GroupBy = append(q.GroupBy, k)
		}
	}
	if err := q.Validate(); err != nil {
		return q, err
	}
	return q, nil
}

func printReport(ctx context.Context, eng *watchdog.Engine, q watchdog.SLAReportQuery, format string, w io.Writer) error {
	rows, err := eng.SLAReport(ctx, q)
	if err != nil {
		return err
	}
	if format == "csv" {
		return watchdog.WriteSLAReportCSV(w, &q, rows)
	}
	fmt.Fprintf(w, "SLA report %s – %s (%s, by %s)\n\n", q.From.In(q.Location).Format(time.RFC3339),
		q.To.In(q.Location).Format(time.RFC3339), q.Location, q.By)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	header := watchdog.SLAReportCSVHeader(&q)
	fmt.Fprintln(tw, strings.Join(header, "\t")+"\t")
	for i := range rows {
		rec := watchdog.SLAReportCSVRecord(&q, &rows[i])
		n := len(q.GroupBy)
		// Durations read better as 1h30m than as 5400.
		for _, j := range []int{n + 6, n + 7, n + 8, n + 9} {
			rec[j] = humanSeconds(rec[j])
		}
		if rec[n+3] != "" {
			rec[n+3] += "%"
		}
		for j := range rec {
			if rec[j] == "" {
				rec[j] = "–"
			}
		}
		fmt.Fprintln(tw, strings.Join(rec, "\t")+"\t")
	}
	if len(rows) == 0 {
		fmt.Fprintln(tw, "(no clocks in this range)\t")
	}
	return tw.Flush()
}

// humanSeconds formats a count of seconds ("5400", "1200.5") as a duration
// (1h30m0s), "" as "".
func humanSeconds(s string) string {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return (time.Duration(f) * time.Second).Round(time.Second).String()
}

func printOutcomes(ctx context.Context, eng *watchdog.Engine, q watchdog.SLAReportQuery, w io.Writer) error {
	out, err := watchdog.NewOutcomeCSV(w, q.Location)
	if err != nil {
		return err
	}
	if err := eng.SLAOutcomes(ctx, q, out.Write); err != nil {
		return err
	}
	return out.Flush()
}
