package watchdog

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var c0 = time.Date(2026, 6, 18, 12, 0, 0, 0, time.UTC)

// timelineTicket builds a ticket from tokens "status@offset" (a status
// event), "c@offset" and "a@offset" (customer and agent messages, all sent
// with the first event) and "fr@offset" (an explicit first response).
func timelineTicket(t *testing.T, tokens ...string) *Ticket {
	t.Helper()
	var (
		evs  []Event
		msgs []Message
		fr   *time.Time
	)
	for _, tok := range tokens {
		what, off, ok := strings.Cut(tok, "@")
		d, err := time.ParseDuration(off)
		if !ok || err != nil {
			t.Fatalf("bad token %q", tok)
		}
		switch what {
		case "c":
			msgs = append(msgs, Message{At: c0.Add(d), Author: AuthorCustomer})
		case "a":
			msgs = append(msgs, Message{At: c0.Add(d), Author: AuthorAgent})
		case "fr":
			v := c0.Add(d)
			fr = &v
		default:
			evs = append(evs, Event{ID: "T", Priority: "high", CustomerTier: "gold", Status: what, CreatedAt: c0, UpdatedAt: c0.Add(d)})
		}
	}
	if len(evs) == 0 {
		t.Fatal("no status event")
	}
	evs[0].Messages, evs[0].FirstResponseAt = msgs, fr
	tk := &Ticket{}
	tk.Merge(evs...)
	return tk
}

// spans formats cycles as "start-stop" offsets from c0, "start-" while
// running.
func spans(cs []cycle) []string {
	out := []string{}
	for _, c := range cs {
		s := c.start.Sub(c0).String() + "-"
		if !c.stop.IsZero() {
			s += c.stop.Sub(c0).String()
		}
		out = append(out, s)
	}
	return out
}

func TestBuildCycles(t *testing.T) {
	cases := []struct {
		name           string
		timeline       []string
		next, periodic []string
	}{
		{"no messages, no cycles", []string{"open@0s"}, nil, nil},
		{"customer messages before the first response start none",
			[]string{"open@0s", "c@1m", "c@2m"}, nil, nil},
		{"the first agent message is the first response and starts a periodic cycle",
			[]string{"open@0s", "c@1m", "a@10m"}, nil, []string{"10m0s-"}},
		{"a customer message after it starts a next-reply cycle; later ones do not restart it",
			[]string{"open@0s", "a@10m", "c@20m", "c@30m"}, []string{"20m0s-"}, []string{"10m0s-"}},
		{"the next agent message stops both and starts a periodic cycle",
			[]string{"open@0s", "a@10m", "c@20m", "a@50m"}, []string{"20m0s-50m0s"}, []string{"10m0s-50m0s", "50m0s-"}},
		{"a change out of the awaiting statuses is the first response",
			[]string{"open@0s", "c@5m", "pending@10m", "c@20m"}, []string{"20m0s-"}, nil},
		{"entry into a resolved status stops every cycle",
			[]string{"open@0s", "a@10m", "c@20m", "solved@30m"}, []string{"20m0s-30m0s"}, []string{"10m0s-30m0s"}},
		{"a customer message while resolved starts a cycle at the reopen",
			[]string{"open@0s", "a@10m", "solved@30m", "c@40m", "open@60m"}, []string{"1h0m0s-"}, []string{"10m0s-30m0s"}},
		{"resolved to closed is no new entry; the reopen still starts the cycle",
			[]string{"open@0s", "a@10m", "solved@30m", "c@40m", "closed@50m", "open@60m"}, []string{"1h0m0s-"}, []string{"10m0s-30m0s"}},
		{"an agent message while resolved answers the waiting customer",
			[]string{"open@0s", "a@10m", "solved@30m", "c@40m", "a@45m", "open@60m"}, nil, []string{"10m0s-30m0s"}},
		{"a reopen without a customer message starts none",
			[]string{"open@0s", "a@10m", "solved@30m", "open@60m"}, nil, []string{"10m0s-30m0s"}},
		{"a customer and an agent message at one instant make no cycle",
			[]string{"open@0s", "a@10m", "c@20m", "a@20m"}, nil, []string{"10m0s-20m0s", "20m0s-"}},
		{"a status change applies before a customer message at its instant",
			[]string{"open@0s", "a@10m", "solved@20m", "c@20m", "open@30m"}, []string{"30m0s-"}, []string{"10m0s-20m0s"}},
		{"the status change out of awaiting applies before a customer message at its instant",
			[]string{"open@0s", "pending@10m", "c@10m"}, []string{"10m0s-"}, nil},
		{"an explicit first response acts as an agent message",
			[]string{"open@0s", "fr@5m", "c@20m"}, []string{"20m0s-"}, []string{"5m0s-"}},
		{"an explicit first response stops a next-reply cycle after it",
			[]string{"open@0s", "pending@1m", "c@2m", "fr@5m"}, []string{"2m0s-5m0s"}, []string{"5m0s-"}},
		{"a ticket created resolved has responded",
			[]string{"solved@0s", "c@5m", "open@10m"}, []string{"10m0s-"}, nil},
		{"an agent message while resolved starts no periodic cycle",
			[]string{"open@0s", "solved@10m", "a@20m"}, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tk := timelineTicket(t, c.timeline...)
			steps := timeline(tk)
			nr, pu, _ := buildCycles(actions(tk, steps), steps, DefaultStatuses)
			want := func(s []string) []string {
				if s == nil {
					return []string{}
				}
				return s
			}
			if diff := cmp.Diff(want(c.next), spans(nr)); diff != "" {
				t.Errorf("next reply cycles (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want(c.periodic), spans(pu)); diff != "" {
				t.Errorf("periodic update cycles (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBuildCyclesOutOfOrder: messages arriving in any order, in any event,
// and re-sent, give the cycles of the ordered timeline.
func TestBuildCyclesOutOfOrder(t *testing.T) {
	ordered := timelineTicket(t, "open@0s", "a@10m", "c@20m", "a@30m", "c@40m", "solved@50m")
	msgs := ordered.Messages
	evs := ordered.Events
	scrambled := &Ticket{}
	scrambled.Merge(evs[1])
	scrambled.Merge(Event{ID: "T", Priority: "high", CustomerTier: "gold", Status: "solved", CreatedAt: c0,
		UpdatedAt: evs[1].UpdatedAt, Messages: []Message{msgs[3], msgs[0]}}) // a stored event: only its messages count
	scrambled.Merge(evs[0])
	e := evs[0]
	e.Messages = []Message{msgs[2], msgs[1], msgs[3]}
	scrambled.Merge(e)
	if diff := cmp.Diff(ordered.Messages, scrambled.Messages); diff != "" {
		t.Fatalf("messages (-ordered +scrambled):\n%s", diff)
	}
	s1, s2 := timeline(ordered), timeline(scrambled)
	nr1, pu1, _ := buildCycles(actions(ordered, s1), s1, DefaultStatuses)
	nr2, pu2, _ := buildCycles(actions(scrambled, s2), s2, DefaultStatuses)
	if diff := cmp.Diff(spans(nr1), spans(nr2)); diff != "" {
		t.Errorf("next reply (-ordered +scrambled):\n%s", diff)
	}
	if diff := cmp.Diff(spans(pu1), spans(pu2)); diff != "" {
		t.Errorf("periodic (-ordered +scrambled):\n%s", diff)
	}
}

func TestBuildCyclesMany(t *testing.T) {
	tokens := []string{"open@0s"}
	for i := 0; i < 150; i++ {
		tokens = append(tokens, fmt.Sprintf("a@%dm", 10*i+1), fmt.Sprintf("c@%dm", 10*i+5))
	}
	tk := timelineTicket(t, tokens...)
	steps := timeline(tk)
	nr, pu, first := buildCycles(actions(tk, steps), steps, DefaultStatuses)
	if len(nr) != 150 || len(pu) != 150 || !first.Equal(c0.Add(time.Minute)) {
		t.Fatalf("%d next reply and %d periodic cycles, first agent %s; want 150, 150, 1m", len(nr), len(pu), first.Sub(c0))
	}
	for i, c := range nr {
		if !c.start.Equal(c0.Add(time.Duration(10*i+5)*time.Minute)) || (i < 149 && !c.stop.Equal(c0.Add(time.Duration(10*i+11)*time.Minute))) {
			t.Fatalf("cycle %d: %v", i, spans(nr[i:i+1]))
		}
	}
}
