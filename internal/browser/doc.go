// Package browser holds watchdogd's web UI tests in a real browser: they
// run the server (server.New and Run over a real listener, on a real
// SQLite store, with the system clock) and drive Debian's chromium through
// chromedp as a person would: the queue, its live countdowns and filters,
// the live feed across a server restart, a ticket's page, the sign-in.
//
// Without a chromium on PATH (or WATCHDOG_CHROMIUM) the tests skip, loudly,
// unless CI is set, where they fail: .ci/run installs it. Each test saves
// a screenshot under its temporary directory, or under WATCHDOG_SCREENSHOTS
// when set; the README's pictures come from
//
//	WATCHDOG_SCREENSHOTS=$PWD/docs/ui go test -count=1 ./internal/browser/
package browser
