// Package faults holds end-to-end tests of watchdogd under faults: the
// database stopped or frozen, Slack rate-limiting, slow or hung, the
// process killed with SIGKILL. They run the built binary against a Slack
// stand-in and, for PostgreSQL, a throwaway cluster of their own
// (internal/pgcluster), and count what Slack received. It has no code of
// its own.
package faults
