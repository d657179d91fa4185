// Package bench is the load harness behind cmd/watchdog-bench. It drives a
// watchdogd over HTTP, as a user's helpdesk would, and measures what the
// design promises: ingest throughput (and, on PostgreSQL, the database's own
// COPY ceiling for the same rows), alert lateness through Slack and the
// WebSocket stream (alone, and while another client imports tickets at half
// the ingest rate), how fast a backlog of imported tickets with every stage
// past is recorded and delivered (catch-up), and how reads and the
// scheduler behave with a million stored tickets.
//
// Each mode is a function taking a config and returning a result with JSON
// tags; the command prints them as a table or as JSON, and renders
// BENCHMARKS.md from a Report. Servers are either reached at a URL or
// spawned from a built watchdogd binary (Spawn), in which case their peak
// RSS is read from /proc.
package bench
