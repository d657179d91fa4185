package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog/internal/diskfull"
	"github.com/ticket-watchdog/watchdog/internal/pgcluster"
)

// The service under a sick database (issue 13, items 5 to 8): each test
// runs the built watchdogd against a throwaway PostgreSQL cluster of its own
// (never the shared server), or an SQLite file on a filesystem it fills.

// checkUnavailable checks that what answered 503 with Retry-After and a JSON
// error within within.
func checkUnavailable(t *testing.T, what string, r reply, err error, within time.Duration) {
	t.Helper()
	switch {
	case err != nil:
		t.Errorf("%s: no answer after %s: %v", what, r.took.Round(time.Millisecond), err)
	case r.code != http.StatusServiceUnavailable:
		t.Errorf("%s: %d %s; want 503", what, r.code, r.body)
	case r.header.Get("Retry-After") == "":
		t.Errorf("%s: 503 without Retry-After", what)
	case r.errorText() == "":
		t.Errorf("%s: 503 body %q is not a JSON error", what, r.body)
	case r.took > within:
		t.Errorf("%s: answered after %s, more than %s", what, r.took.Round(time.Millisecond), within)
	}
}

// storeRequests are requests that each need the store.
var storeRequests = []struct{ method, path string }{
	{http.MethodPost, "/tickets"},
	{http.MethodGet, "/tickets/t-1"},
	{http.MethodGet, "/dashboard?state=alert"},
}

// askAll sends every store request and /readyz at once, each given up to
// 30s, and checks that each is a timely 503.
func askAll(t *testing.T, d *daemon, within time.Duration) {
	t.Helper()
	var wg sync.WaitGroup
	for _, rq := range storeRequests {
		wg.Go(func() {
			body := ""
			if rq.method == http.MethodPost {
				body = ticketJSON("t-2", time.Now())
			}
			r, err := d.do(rq.method, rq.path, body, 30*time.Second)
			checkUnavailable(t, rq.method+" "+rq.path, r, err, within)
		})
	}
	wg.Go(func() {
		r, err := d.do(http.MethodGet, "/readyz", "", 30*time.Second)
		checkUnavailable(t, "GET /readyz", r, err, within)
	})
	wg.Wait()
}

// With the database frozen (SIGSTOP: connections open, nothing answers),
// every request that needs it and /readyz answer 503 at the request
// deadline, and SIGTERM ends the process in bounded time. They used to
// hang for as long as the database was frozen, /readyz then said 200, and
// the process exited only after the database came back.
func TestFrozenDatabaseAnswers503AndShutsDown(t *testing.T) {
	t.Parallel()
	c := pgcluster.Start(t)
	d := startDaemon(t, "DATABASE_URL="+c.URL("postgres"), "WATCHDOG_REQUEST_TIMEOUT=2s")
	d.waitFor("/readyz", http.StatusOK, 60*time.Second)
	if r, err := d.do(http.MethodPost, "/tickets", ticketJSON("t-1", time.Now()), 10*time.Second); err != nil || r.code != http.StatusOK {
		t.Fatalf("POST /tickets before the freeze: %v %v", r, err)
	}
	c.Freeze(t)
	defer c.Thaw(t)
	// 2s deadline, plus time to answer on a loaded machine.
	askAll(t, d, 4*time.Second)

	// SIGTERM while a request waits on the frozen database.
	inflight := make(chan reply, 1)
	go func() {
		r, _ := d.do(http.MethodPost, "/tickets", ticketJSON("t-3", time.Now()), 60*time.Second)
		inflight <- r
	}()
	time.Sleep(500 * time.Millisecond)
	code, took := d.terminate(90 * time.Second)
	t.Logf("SIGTERM with the database frozen: exit code %d after %s", code, took.Round(time.Millisecond))
	if code != 0 {
		t.Fatalf("watchdogd after SIGTERM with the database frozen: exit code %d after %s; want 0 within the shutdown bound", code, took)
	}
	// No Slack is configured, so no send is in flight: the bound is the
	// request deadline, the engine's final heartbeat (ClaimTTL, 5s) and the
	// store's close.
	if took > 15*time.Second {
		t.Errorf("SIGTERM took %s with the database frozen; want at most 15s", took)
	}
	if r := <-inflight; r.code != http.StatusServiceUnavailable {
		t.Errorf("the request in flight at SIGTERM got %d %s; want 503", r.code, r.body)
	}
}

// With the database stopped (connection refused), requests that need it
// get 503 with Retry-After, not 500, and the log says so once when it goes
// and once when it comes back, not once per request.
func TestStoppedDatabaseAnswers503AndLogsOnce(t *testing.T) {
	t.Parallel()
	c := pgcluster.Start(t)
	d := startDaemon(t, "DATABASE_URL="+c.URL("postgres"))
	d.waitFor("/readyz", http.StatusOK, 60*time.Second)
	c.Stop(t, "immediate")
	for range 3 {
		askAll(t, d, 5*time.Second)
	}
	if n := d.logs.count(`"level":"ERROR"`, "request failed"); n > 0 {
		t.Errorf("%d ERROR lines for requests refused while the database was down; want none", n)
	}
	if n := d.logs.count(`"msg":"store unavailable`); n != 1 {
		t.Errorf("%d lines say the store is unavailable after 12 refused requests; want 1", n)
	}
	c.StartAgain(t)
	d.waitFor("/readyz", http.StatusOK, 30*time.Second)
	if r, err := d.do(http.MethodPost, "/tickets", ticketJSON("t-4", time.Now()), 10*time.Second); err != nil || r.code != http.StatusOK {
		t.Errorf("POST /tickets after the database came back: %d %s %v", r.code, r.body, err)
	}
	if n := d.logs.count(`"msg":"store available again`); n != 1 {
		t.Errorf("%d lines say the store is available again; want 1", n)
	}
}

// Started before its database, watchdogd serves /healthz (200) and
// answers 503 elsewhere while it retries, then just works once the database
// is up: migrations, API and engine. It used to exit at once with code 1.
func TestStartsBeforeTheDatabase(t *testing.T) {
	t.Parallel()
	c := pgcluster.Start(t)
	c.Stop(t, "fast")
	d := startDaemon(t, "DATABASE_URL="+c.URL("postgres"), "WATCHDOG_DB_WAIT=120s")
	d.waitFor("/healthz", http.StatusOK, 20*time.Second)
	r, err := d.do(http.MethodGet, "/readyz", "", 10*time.Second)
	checkUnavailable(t, "GET /readyz while waiting", r, err, 5*time.Second)
	r, err = d.do(http.MethodPost, "/tickets", ticketJSON("t-5", time.Now()), 10*time.Second)
	checkUnavailable(t, "POST /tickets while waiting", r, err, 5*time.Second)
	for deadline := time.Now().Add(20 * time.Second); d.logs.count(`"msg":"database unreachable`) < 2; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no second attempt logged within 20s")
		}
	}
	c.StartAgain(t)
	d.waitFor("/readyz", http.StatusOK, 30*time.Second)
	// Created two days ago: both clocks are breached, so the engine
	// fires at once.
	if r, err := d.do(http.MethodPost, "/tickets", ticketJSON("t-6", time.Now().Add(-48*time.Hour)), 10*time.Second); err != nil || r.code != http.StatusOK {
		t.Fatalf("POST /tickets once the database is up: %d %s %v", r.code, r.body, err)
	}
	waitForAlerts(t, d, "t-6", 10*time.Second)
	if code, took := d.terminate(60 * time.Second); code != 0 {
		t.Errorf("SIGTERM: exit code %d after %s; want 0", code, took)
	}
}

// waitForAlerts waits until the ticket has an alert recorded.
func waitForAlerts(t *testing.T, d *daemon, id string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		r, err := d.do(http.MethodGet, "/tickets/"+id, "", 5*time.Second)
		if err == nil && r.code == http.StatusOK && !strings.Contains(r.body, `"alerts":[]`) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("ticket %s has no alert after %s: %d %s %v", id, within, r.code, r.body, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// After WATCHDOG_DB_WAIT without a database, watchdogd gives up with exit
// code 1, having served /healthz meanwhile.
func TestGivesUpWaitingForTheDatabase(t *testing.T) {
	t.Parallel()
	port := freePort(t) // nothing listens there
	d := startDaemon(t, "DATABASE_URL=postgres://postgres@127.0.0.1:"+strconv.Itoa(port)+"/test?sslmode=disable", "WATCHDOG_DB_WAIT=4s")
	d.waitFor("/healthz", http.StatusOK, 10*time.Second)
	if code := d.exitCode(30 * time.Second); code != 1 {
		t.Fatalf("exit code %d 30s into a 4s WATCHDOG_DB_WAIT; want 1", code)
	}
	if n := d.logs.count(`"msg":"database unreachable`); n < 2 {
		t.Errorf("%d attempts logged; want each of them", n)
	}
}

// On a full disk, SQLite writes answer 503 naming the cause, /readyz says
// so, and once space is freed the service recovers by itself: writes work
// and the alerts that came due meanwhile fire. Writes used to answer 500,
// alerts silently stopped, and /readyz stayed 200.
func TestSQLiteFullDiskAnswers503AndRecovers(t *testing.T) {
	t.Parallel()
	dir := diskfull.Mount(t, "8m")
	d := startDaemon(t, "DATABASE_URL=sqlite:///"+filepath.Join(dir, "watchdog.db"))
	d.waitFor("/readyz", http.StatusOK, 30*time.Second)
	// The built-in policy's gold/high response alert comes due at 85% of
	// 30 minutes: 25m30s after creation, here 8s from now.
	due := time.Now().Add(8 * time.Second)
	if r, err := d.do(http.MethodPost, "/tickets", ticketJSON("due-while-full", due.Add(-25*time.Minute-30*time.Second)), 10*time.Second); err != nil || r.code != http.StatusOK {
		t.Fatalf("POST /tickets: %d %s %v", r.code, r.body, err)
	}
	filler := filepath.Join(dir, "filler")
	diskfull.Fill(t, filler)

	r, err := d.do(http.MethodPost, "/tickets", ticketJSON("while-full", time.Now()), 10*time.Second)
	checkUnavailable(t, "POST /tickets on a full disk", r, err, 5*time.Second)
	if !strings.Contains(r.errorText(), "disk space") {
		t.Errorf("POST /tickets on a full disk: error %q should say the disk is full", r.errorText())
	}
	r, err = d.do(http.MethodGet, "/readyz", "", 10*time.Second)
	checkUnavailable(t, "GET /readyz on a full disk", r, err, 5*time.Second)
	if !strings.Contains(r.errorText(), "disk space") {
		t.Errorf("GET /readyz on a full disk: error %q should say the disk is full", r.errorText())
	}
	time.Sleep(time.Until(due.Add(2 * time.Second)))
	if r, err := d.do(http.MethodGet, "/tickets/due-while-full", "", 10*time.Second); err != nil || r.code != http.StatusOK {
		t.Errorf("reading a ticket on a full disk: %d %s %v", r.code, r.body, err)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	d.waitFor("/readyz", http.StatusOK, 10*time.Second)
	waitForAlerts(t, d, "due-while-full", 10*time.Second)
	if r, err := d.do(http.MethodPost, "/tickets", ticketJSON("while-full", time.Now()), 10*time.Second); err != nil || r.code != http.StatusOK {
		t.Errorf("POST /tickets once space is back: %d %s %v", r.code, r.body, err)
	}
}

// WATCHDOG_REQUEST_TIMEOUT and WATCHDOG_DB_WAIT reach the server's Config
// (a DB wait of 0 means none, a negative DBWait to the server), and bad
// values are refused naming the variable.
func TestSickDatabaseVariables(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		vars            map[string]string
		request, dbWait time.Duration
	}{
		{nil, 10 * time.Second, time.Minute},
		{map[string]string{"WATCHDOG_REQUEST_TIMEOUT": "3s", "WATCHDOG_DB_WAIT": "5m"}, 3 * time.Second, 5 * time.Minute},
		{map[string]string{"WATCHDOG_DB_WAIT": "0"}, 10 * time.Second, -1},
	} {
		s, err := settingsFrom(t, tc.vars)
		if err != nil {
			t.Fatal(err)
		}
		cfg := s.serverConfig(io.Discard)
		if cfg.RequestTimeout != tc.request || cfg.DBWait != tc.dbWait {
			t.Errorf("%v: RequestTimeout %s, DBWait %s; want %s, %s", tc.vars, cfg.RequestTimeout, cfg.DBWait, tc.request, tc.dbWait)
		}
	}
	for name, value := range map[string]string{
		"WATCHDOG_REQUEST_TIMEOUT": "0s", "WATCHDOG_DB_WAIT": "-1s",
	} {
		if _, err := settingsFrom(t, map[string]string{name: value}); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: error %v should name the variable", name, value, err)
		}
	}
	if _, err := settingsFrom(t, map[string]string{"WATCHDOG_REQUEST_TIMEOUT": "soon"}); err == nil {
		t.Error("WATCHDOG_REQUEST_TIMEOUT=soon accepted")
	}
}
