package api_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/api"
)

// GET /alerts lists the recorded alerts newest first, after and before an
// id, as the document describes (the contract checker sees every answer).
func TestAlertsNewestFirst(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	empty := e.do(t, "GET", "/alerts", "")
	mustStatus(t, empty, http.StatusOK)
	if string(empty.body) != "[]\n" {
		t.Errorf("no alerts: body %q, want []", empty.body)
	}
	mustStatus(t, e.do(t, "POST", "/tickets", seedExample), http.StatusOK)
	if _, err := e.eng.Hooks().EvaluateDue(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	all := decode[[]watchdog.Alert](t, e.do(t, "GET", "/alerts", "").body)
	if len(all) != 4 {
		t.Fatalf("got %d alerts, want the seed ticket's 4", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID >= all[i-1].ID {
			t.Fatalf("not newest first: ids %d then %d", all[i-1].ID, all[i].ID)
		}
	}
	newest := decode[[]seedAlert](t, e.do(t, "GET", "/alerts?limit=1", "").body)
	if all[0].TicketID != "1" || len(newest) != 1 || newest[0].Details["target_minutes"] != 180.0 {
		t.Errorf("newest alert %+v, %+v; want the seed ticket's resolution breach with its details", all[0], newest)
	}
	ids := func(path string) []int64 {
		t.Helper()
		r := e.do(t, "GET", path, "")
		mustStatus(t, r, http.StatusOK)
		var out []int64
		for _, a := range decode[[]watchdog.Alert](t, r.body) {
			out = append(out, a.ID)
		}
		return out
	}
	id := func(i int) string { return strconv.FormatInt(all[i].ID, 10) }
	for _, c := range []struct {
		path string
		want []int64
	}{
		{"/alerts?limit=2", []int64{all[0].ID, all[1].ID}},
		{"/alerts?after_id=" + id(2), []int64{all[0].ID, all[1].ID}},
		{"/alerts?after_id=" + id(0), nil},
		{"/alerts?before_id=" + id(1) + "&limit=1", []int64{all[2].ID}},
		{"/alerts?after_id=" + id(3) + "&before_id=" + id(0), []int64{all[1].ID, all[2].ID}},
	} {
		if got := ids(c.path); !slicesEqual(got, c.want) {
			t.Errorf("%s: ids %v, want %v", c.path, got, c.want)
		}
	}
}

func slicesEqual(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Bad parameters are 400 naming the parameter.
func TestAlertsBadQuery(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	for q, field := range map[string]string{
		"limit=0":                       "limit",
		"limit=1001":                    "limit",
		"limit=x":                       "limit",
		"after_id=-1":                   "after_id",
		"after_id=1.5":                  "after_id",
		"before_id=-3":                  "before_id",
		"before_id=%zz":                 "before_id",
		"after_id=99999999999999999999": "after_id",
	} {
		r := e.do(t, "GET", "/alerts?"+q, "")
		mustStatus(t, r, http.StatusBadRequest)
		eb := decode[errorBody](t, r.body)
		if len(eb.Details) == 0 || eb.Details[0].Field != field {
			t.Errorf("%s: details %+v, want field %s", q, eb.Details, field)
		}
	}
}

// With a token set, Config.SessionAuth authorises GET routes without the
// bearer token, and never a route that changes state.
func TestSessionAuthorisesReadsOnly(t *testing.T) {
	t.Parallel()
	e := setup(t, &api.Config{APIToken: "s3cret-token-value", SessionAuth: func(r *http.Request) bool {
		c, err := r.Cookie("session")
		return err == nil && c.Value == "good"
	}})
	mustStatus(t, e.do(t, "GET", "/alerts", ""), http.StatusUnauthorized)
	mustStatus(t, e.do(t, "GET", "/alerts", "", "Cookie", "session=bad"), http.StatusUnauthorized)
	mustStatus(t, e.do(t, "GET", "/alerts", "", "Cookie", "session=good"), http.StatusOK)
	mustStatus(t, e.do(t, "GET", "/dashboard", "", "Cookie", "session=good"), http.StatusOK)
	mustStatus(t, e.do(t, "POST", "/tickets", seedExample, "Cookie", "session=good"), http.StatusUnauthorized)
	mustStatus(t, e.do(t, "POST", "/tickets", seedExample, "Authorization", "Bearer s3cret-token-value"), http.StatusOK)
}
