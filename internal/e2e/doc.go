// Package e2e holds end-to-end tests that run the whole engine against real
// stores, a mock Slack and real WebSocket clients: a crash test that kills
// an ingesting, alerting process with SIGKILL and checks that nothing
// acknowledged is lost and nothing is doubled (SQLite and PostgreSQL), and a
// scale-out test of three engines sharing one PostgreSQL database.
//
// The package has no code of its own; everything is in its _test.go files.
//
//	go test -race ./internal/e2e/
//	WD_SCALEOUT_TICKETS=2000 go test -race -run ScaleOut ./internal/e2e/
package e2e
