package watchdog

import (
	"log/slog"
	"sync"
	"time"
)

// failingReminder is how often a destination that keeps failing is
// reported again, with the count of failed attempts since the last line.
const failingReminder = 5 * time.Minute

// destinationLog logs one notifier's retried failures per change of the
// destination's state rather than per attempt: a line when it starts
// failing, a reminder with counts every failingReminder while it fails,
// and a line with counts when a delivery succeeds again. An unreachable
// Slack used to log a WARN for every attempt of every delivery (57,000
// lines in three minutes); each attempt is still logged at debug level.
// It is safe for concurrent use.
type destinationLog struct {
	mu       sync.Mutex
	failing  bool
	since    time.Time // start of the failing spell
	reported time.Time // last line about the spell
	failures int       // failed attempts since that line
	total    int       // failed attempts in the spell

	pauseLogged time.Time // when a pause was last logged
	pauses      int       // pauses since
}

// paused records a pause of the destination that starts (it asked for a
// wait, or a send timed out): logged at most once per failingReminder, with
// the pauses since the last line, as a destination held at its rate limit
// pauses again and again.
func (l *destinationLog) paused(log *slog.Logger, now time.Time, notifier string, until time.Time, errText string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pauses++
	if !l.pauseLogged.IsZero() && now.Sub(l.pauseLogged) < failingReminder {
		return
	}
	log.Warn("destination paused: nothing is sent to it until the pause ends", "notifier", notifier,
		"until", until, "pauses_since_last_line", l.pauses, "err", errText)
	l.pauseLogged, l.pauses = now, 0
}

// retrying records an attempt that failed and will be retried.
func (l *destinationLog) retrying(log *slog.Logger, now time.Time, notifier, errText string, attrs ...any) {
	log.Debug("alert delivery failed, will retry", append(attrs, "err", errText)...)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failures++
	l.total++
	switch {
	case !l.failing:
		l.failing, l.since, l.reported, l.failures, l.total = true, now, now, 0, 1
		log.Warn("alert deliveries failing; retrying with backoff (logged again every 5 minutes while it lasts, and when it ends)",
			"notifier", notifier, "err", errText)
	case now.Sub(l.reported) >= failingReminder:
		log.Warn("alert deliveries still failing; retrying with backoff", "notifier", notifier, "err", errText,
			"failed_attempts", l.failures, "failing_for", now.Sub(l.since).Round(time.Second).String())
		l.reported, l.failures = now, 0
	}
}

// delivered records a successful delivery, which ends a failing spell.
func (l *destinationLog) delivered(log *slog.Logger, now time.Time, notifier string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.failing {
		return
	}
	log.Info("alert deliveries succeeding again", "notifier", notifier, "failed_attempts", l.total,
		"failing_for", now.Sub(l.since).Round(time.Second).String())
	l.failing = false
}
