package websocket

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	watchdog "github.com/ticket-watchdog/watchdog"
)

// maxFilterValues bounds how many values one connection's filters may list,
// so that a query string cannot make every Publish expensive.
const maxFilterValues = 1000

// filter selects the alerts one client receives. A nil set matches any
// value; the sets are ANDed, the values inside a set ORed.
type filter struct {
	ticketIDs  map[string]struct{}
	tiers      map[string]struct{} // lower case
	priorities map[string]struct{} // lower case
	states     map[string]struct{}
	slaTypes   map[string]struct{}
	policies   map[string]struct{}
}

// filterError is a bad filter parameter, answered with 400.
type filterError struct {
	Param   string
	Message string
}

func (e *filterError) Error() string { return e.Param + ": " + e.Message }

// parseFilter reads the filters from a query string. Each parameter may be
// repeated and may hold a comma-separated list; tier and customer_tier are
// the same filter. Parameters it does not know are ignored, so a server may
// add its own (an access token, say).
func parseFilter(q url.Values) (filter, error) {
	var f filter
	total := 0
	collect := func(param string, fold bool, allowed ...string) (map[string]struct{}, error) {
		raw, ok := q[param]
		if !ok {
			return nil, nil
		}
		set := make(map[string]struct{})
		for _, v := range raw {
			for _, item := range strings.Split(v, ",") {
				item = strings.TrimSpace(item)
				if item == "" {
					return nil, &filterError{Param: param, Message: "must not be empty"}
				}
				if !utf8.ValidString(item) || strings.IndexByte(item, 0) >= 0 {
					// As the API refuses such ids, tiers and priorities.
					return nil, &filterError{Param: param, Message: "values must be valid UTF-8 text without NUL characters"}
				}
				if len(item) > watchdog.MaxIDBytes {
					return nil, &filterError{Param: param, Message: fmt.Sprintf("values must be at most %d bytes long", watchdog.MaxIDBytes)}
				}
				if fold {
					item = strings.ToLower(item)
				}
				if len(allowed) > 0 && !slices.Contains(allowed, item) {
					return nil, &filterError{Param: param, Message: fmt.Sprintf("%q is not one of %s", item, strings.Join(allowed, ", "))}
				}
				if total++; total > maxFilterValues {
					return nil, &filterError{Param: param, Message: fmt.Sprintf("too many filter values; at most %d allowed", maxFilterValues)}
				}
				set[item] = struct{}{}
			}
		}
		return set, nil
	}
	var err error
	if f.ticketIDs, err = collect("ticket_id", false); err != nil {
		return filter{}, err
	}
	tiers, err := collect("tier", true)
	if err != nil {
		return filter{}, err
	}
	customerTiers, err := collect("customer_tier", true)
	if err != nil {
		return filter{}, err
	}
	f.tiers = union(tiers, customerTiers)
	if f.priorities, err = collect("priority", true); err != nil {
		return filter{}, err
	}
	if f.states, err = collect("state", true, watchdog.StageAlert, watchdog.StageBreach); err != nil {
		return filter{}, err
	}
	if f.slaTypes, err = collect("sla_type", true, string(watchdog.Response), string(watchdog.Resolution),
		string(watchdog.NextReply), string(watchdog.PeriodicUpdate)); err != nil {
		return filter{}, err
	}
	if f.policies, err = collect("policy", false); err != nil {
		return filter{}, err
	}
	return f, nil
}

// match reports whether a passes every filter.
func (f *filter) match(a *watchdog.Alert) bool {
	return in(f.ticketIDs, a.TicketID) &&
		inFold(f.tiers, a.CustomerTier) &&
		inFold(f.priorities, a.Priority) &&
		in(f.states, a.State) &&
		in(f.slaTypes, string(a.SLAClock)) &&
		in(f.policies, a.Policy)
}

func in(set map[string]struct{}, v string) bool {
	if set == nil {
		return true
	}
	_, ok := set[v]
	return ok
}

// inFold is in for a set of lower-case values; it lowers v only when it has
// to, to keep Publish cheap for clients without that filter.
func inFold(set map[string]struct{}, v string) bool {
	if set == nil {
		return true
	}
	_, ok := set[strings.ToLower(v)]
	return ok
}

func union(a, b map[string]struct{}) map[string]struct{} {
	if a == nil {
		return b
	}
	for k := range b {
		a[k] = struct{}{}
	}
	return a
}
