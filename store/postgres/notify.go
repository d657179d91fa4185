package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/internal/sqlstore"
)

// maxPayload keeps NOTIFY payloads under PostgreSQL's 8000-byte limit.
const maxPayload = 7800

// notice is what the store publishes with NOTIFY when it commits alerts:
// the writing store's origin and the alerts' ids. Listeners of other
// stores read the alerts by id; the writer's own subscribers got them
// straight from the commit and skip it. Ids keep the payloads small (a
// pass of a thousand alerts is one or two notifications) and cost the
// writer no encoding.
type notice struct {
	Origin string  `json:"o"`
	IDs    []int64 `json:"i"`
}

// noticePayloads packs ids into notices that each fit one NOTIFY.
func noticePayloads(origin string, alerts []watchdog.Alert) []string {
	var (
		out []string
		cur []byte
	)
	head := `{"o":"` + origin + `","i":[`
	for _, a := range alerts {
		if len(cur) == 0 {
			cur = append(cur, head...)
		} else {
			cur = append(cur, ',')
		}
		cur = strconv.AppendInt(cur, a.ID, 10)
		if len(cur) > maxPayload-24 {
			out = append(out, string(append(cur, "]}"...)))
			cur = cur[:0]
		}
	}
	if len(cur) > 0 {
		out = append(out, string(append(cur, "]}"...)))
	}
	return out
}

// wireAlert is an alert as earlier versions published it with NOTIFY (a
// JSON array of these): compact keys, times in Unix microseconds, or the id
// alone ("r": true) for an alert too large. Listeners still read it, so
// that replicas of both versions can share a database during an upgrade.
type wireAlert struct {
	ID      int64  `json:"i"`
	Ref     bool   `json:"r,omitempty"`
	Ticket  string `json:"t,omitempty"`
	Clock   string `json:"c,omitempty"`
	Stage   string `json:"s,omitempty"`
	Cycle   int    `json:"y,omitempty"`
	State   string `json:"st,omitempty"`
	Due     int64  `json:"d,omitempty"`
	Fired   int64  `json:"f,omitempty"`
	Level   int    `json:"l,omitempty"`
	Prio    string `json:"p,omitempty"`
	Tier    string `json:"ct,omitempty"`
	Target  int64  `json:"tg,omitempty"`
	Elapsed int64  `json:"el,omitempty"`
	Details string `json:"dt,omitempty"`
}

func (w wireAlert) alert() watchdog.Alert {
	return watchdog.Alert{ID: w.ID, TicketID: w.Ticket, SLAClock: watchdog.SLAClock(w.Clock), Stage: w.Stage,
		Cycle: w.Cycle, State: w.State, DueAt: time.UnixMicro(w.Due).UTC(), FiredAt: time.UnixMicro(w.Fired).UTC(),
		EscalationLevel: w.Level, Priority: w.Prio, CustomerTier: w.Tier, Target: time.Duration(w.Target),
		Elapsed: time.Duration(w.Elapsed), Message: w.Details}
}

// publishLocal hands alerts this store committed to its own subscribers.
func (s *Store) publishLocal(alerts []watchdog.Alert) {
	if len(alerts) == 0 {
		return
	}
	out := make([]watchdog.Alert, len(alerts))
	for i, a := range alerts {
		a.Deliveries = nil // as other stores' subscribers get them
		out[i] = a
	}
	s.hub.fanOut(out)
}

// hub fans alerts from the store's one LISTEN connection out to its
// subscribers. The listener starts with the first subscriber.
type hub struct {
	mu       sync.Mutex
	subs     map[*subscriber]struct{}
	listener *pq.Listener
	closed   bool
	stopped  chan struct{} // closed when the dispatcher exits
}

type subscriber struct {
	ch chan watchdog.Alert
}

// SubscribeAlerts returns a channel of every alert recorded from now on by
// any Store sharing the database (and schema). The channel is buffered; a
// subscriber that falls behind misses alerts instead of slowing writers. It
// is closed when ctx is done or the store closes.
func (s *Store) SubscribeAlerts(ctx context.Context) (<-chan watchdog.Alert, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if err := s.startListener(ctx); err != nil {
		return nil, err
	}
	sub := &subscriber{ch: make(chan watchdog.Alert, s.cfg.SubscriberBuffer)}
	h := &s.hub
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, watchdog.ErrClosed
	}
	h.subs[sub] = struct{}{}
	stopped := h.stopped
	h.mu.Unlock()
	go func() {
		select {
		case <-ctx.Done():
		case <-stopped:
		}
		h.remove(sub)
	}()
	return sub.ch, nil
}

// remove unsubscribes sub and closes its channel, once.
func (h *hub) remove(sub *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[sub]; ok {
		delete(h.subs, sub)
		close(sub.ch)
	}
}

func (h *hub) close() {
	h.mu.Lock()
	h.closed = true
	l := h.listener
	stopped := h.stopped
	for sub := range h.subs {
		delete(h.subs, sub)
		close(sub.ch)
	}
	h.mu.Unlock()
	if l != nil {
		_ = l.Close()
		<-stopped
	}
}

// startListener opens the LISTEN connection unless it is open already, and
// returns once the server has acknowledged the LISTEN, so that every alert
// committed after SubscribeAlerts returns is seen.
func (s *Store) startListener(ctx context.Context) error {
	h := &s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return watchdog.ErrClosed
	}
	if h.listener != nil {
		return nil
	}
	if s.cfg.ListenDSN == "" {
		return errors.New("postgres: subscribe alerts: Config.ListenDSN is required for a Store made with New")
	}
	channel, err := s.alertChannel(ctx)
	if err != nil {
		return err
	}
	log := s.cfg.Logger
	l := pq.NewListener(withConnectTimeout(s.cfg.ListenDSN), 100*time.Millisecond, 10*time.Second, func(ev pq.ListenerEventType, err error) {
		if err != nil {
			log.Warn("postgres alert listener", "event", ev.String(), "error", scrub(err, s.secrets).Error())
		} else {
			log.Info("postgres alert listener", "event", ev.String())
		}
	})
	done := make(chan error, 1)
	go func() { done <- l.Listen(channel) }()
	select {
	case err := <-done:
		if err != nil {
			_ = l.Close()
			return s.fail(ctx, "subscribe alerts: listen", err)
		}
	case <-ctx.Done():
		_ = l.Close()
		return fmt.Errorf("postgres: subscribe alerts: %w", ctx.Err())
	}
	h.listener = l
	h.stopped = make(chan struct{})
	go s.dispatch(l, h.stopped)
	return nil
}

// dispatch decodes notifications and fans them out until the listener
// closes.
func (s *Store) dispatch(l *pq.Listener, stopped chan struct{}) {
	defer close(stopped)
	for n := range l.NotificationChannel() {
		if n == nil {
			// Reconnected: alerts committed while disconnected were missed,
			// which subscribers accept (they may miss alerts when behind).
			continue
		}
		var (
			alerts []watchdog.Alert
			refs   []int64
		)
		if strings.HasPrefix(n.Extra, "[") {
			var items []wireAlert
			if err := json.Unmarshal([]byte(n.Extra), &items); err != nil {
				s.cfg.Logger.Warn("postgres alert listener: bad payload", "error", err)
				continue
			}
			for _, w := range items {
				if w.Ref {
					refs = append(refs, w.ID)
					continue
				}
				alerts = append(alerts, w.alert())
			}
		} else {
			var nt notice
			if err := json.Unmarshal([]byte(n.Extra), &nt); err != nil {
				s.cfg.Logger.Warn("postgres alert listener: bad payload", "error", err)
				continue
			}
			if nt.Origin == s.origin {
				continue // published to this store's subscribers at commit
			}
			refs = nt.IDs
		}
		if len(refs) > 0 {
			loaded, err := s.alertsByID(refs)
			if err != nil {
				s.cfg.Logger.Warn("postgres alert listener: load alerts", "error", err)
			}
			alerts = append(alerts, loaded...)
		}
		s.hub.fanOut(alerts)
	}
}

func (h *hub) fanOut(alerts []watchdog.Alert) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		for _, a := range alerts {
			select {
			case sub.ch <- a:
			default: // full: this subscriber misses the alert
			}
		}
	}
}

func (s *Store) alertsByID(ids []int64) ([]watchdog.Alert, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := sqlstore.QueryAll(ctx, s.db, scanAlert, `SELECT `+alertCols+` FROM alerts WHERE id = ANY($1) ORDER BY id`, pq.Int64Array(ids))
	if err != nil {
		return nil, s.fail(ctx, "load alerts", err)
	}
	return out, nil
}
