package watchdog

import (
	"sync"
	"time"
)

// plannedSet counts the distinct tickets a store planned in one call. A
// store may call the PlanFunc again for the same ticket when it retries its
// transaction (the Postgres store does after a deadlock), so counting calls
// would overcount. It keeps each ticket's BackfilledAt as planned, to tell
// backfilled alerts from late ones.
type plannedSet struct {
	mu  sync.Mutex
	ids map[string]*time.Time // BackfilledAt by ticket id
	// stopped holds by ticket id the outcomes its plan records stopped
	// for the first time, to count once committed.
	stopped map[string][]Outcome
}

func (s *plannedSet) wrap(plan PlanFunc) PlanFunc {
	return func(t *Ticket) Plan {
		s.mu.Lock()
		if s.ids == nil {
			s.ids = make(map[string]*time.Time)
		}
		s.ids[t.ID] = t.BackfilledAt
		s.mu.Unlock()
		p := plan(t)
		first := firstStopped(t.Outcomes, p.Outcomes)
		s.mu.Lock()
		if s.stopped == nil {
			s.stopped = make(map[string][]Outcome)
		}
		s.stopped[t.ID] = first
		s.mu.Unlock()
		return p
	}
}

// report tells obs of the outcomes the committed plans recorded stopped
// for the first time.
func (s *plannedSet) report(obs Observer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, os := range s.stopped {
		for _, o := range os {
			obs.OutcomeRecorded(o)
		}
	}
}

// backfilled reports whether a's stage was due by its ticket's
// BackfilledAt: made due by an ingest or policy change after its instant.
func (s *plannedSet) backfilled(a Alert) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	at := s.ids[a.TicketID]
	return at != nil && !a.DueAt.After(*at)
}

func (s *plannedSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids)
}
