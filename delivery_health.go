package watchdog

import (
	"sync"
	"time"
)

// destinationHealth logs a destination's state as it changes rather than
// once per attempt, so that an unreachable Slack during a burst makes a
// few lines with counts, not one per delivery: "failing" at the first
// failed send, "paused" when it asks for a wait or times out, and
// "recovered" with the number of failed sends at the next success.
type destinationHealth struct {
	mu      sync.Mutex
	failing bool
	since   time.Time
	failed  int // failed sends since
	pauses  int // pauses since

	pauseLogged time.Time // when a pause was last logged
	unlogged    int       // pauses since
}

// pauseLogEvery spaces the log lines of a destination that keeps pausing,
// as one kept at its rate limit does.
const pauseLogEvery = time.Minute

// observe records one send's result (carrying n deliveries).
func (h *destinationHealth) observe(d *deliveryLoop, err error, n int, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err == nil {
		if h.failing {
			d.e.log.Info("alert delivery recovered", "notifier", d.name, "failed_sends", h.failed,
				"pauses", h.pauses, "failing_for", now.Sub(h.since).String())
		}
		h.failing, h.failed, h.pauses = false, 0, 0
		return
	}
	h.failed++
	if !h.failing {
		h.failing, h.since = true, now
		d.e.log.Warn("alert delivery failing; retries follow, and recovery is logged", "notifier", d.name,
			"deliveries", n, "err", errorText(err))
	}
}

// paused logs a pause that starts, at most once per pauseLogEvery with the
// number of pauses since the last line.
func (h *destinationHealth) paused(d *deliveryLoop, until time.Time, cause error) {
	now := d.e.clock.Now()
	h.mu.Lock()
	h.pauses++
	h.unlogged++
	log := h.pauseLogged.IsZero() || now.Sub(h.pauseLogged) >= pauseLogEvery
	n := h.unlogged
	if log {
		h.pauseLogged, h.unlogged = now, 0
	}
	h.mu.Unlock()
	if log {
		d.e.log.Warn("destination paused: nothing is sent to it until the pause ends", "notifier", d.name,
			"until", until, "pauses_since_last_line", n, "err", errorText(cause))
	}
}

// resumed notes the end of a pause.
func (h *destinationHealth) resumed(d *deliveryLoop, now time.Time) {
	d.e.log.Debug("destination pause over: probing it with one send at a time", "notifier", d.name)
}
