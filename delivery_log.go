package watchdog

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// failingReminder is how often something that keeps failing is reported
// again, with the count of failures since the last line.
const failingReminder = 5 * time.Minute

// failureLog logs a spell of failures per change of state rather than per
// failure: a line when it starts failing, a reminder with counts every
// failingReminder while it fails, and a line with counts when it succeeds
// again. Each failure is still logged at debug level. An unreachable Slack
// used to log a WARN for every attempt of every delivery (57,000 lines in
// three minutes), and a database that was down an ERROR for every retried
// step of every loop. It is safe for concurrent use.
type failureLog struct {
	// what names what fails, for the messages: "alert deliveries",
	// "evaluation of due tickets".
	what string
	// level is the level of the first line and the reminders.
	level slog.Level

	mu       sync.Mutex
	failing  bool
	since    time.Time // start of the failing spell
	reported time.Time // last line about the spell
	failures int       // failures since that line
	total    int       // failures in the spell
}

// failed records one failure, to be retried: at debug level with attrs,
// and per state change with spell (attributes of what fails, such as the
// notifier).
func (l *failureLog) failed(log *slog.Logger, now time.Time, errText string, spell []any, attrs ...any) {
	log.Debug(l.what+": failed, will retry", append(append(attrs, spell...), "err", errText)...)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failures++
	l.total++
	switch {
	case !l.failing:
		l.failing, l.since, l.reported, l.failures, l.total = true, now, now, 0, 1
		log.Log(context.Background(), l.level, l.what+" failing; retrying with backoff (logged again every 5 minutes while it lasts, and when it ends)",
			append(spell, "err", errText)...)
	case now.Sub(l.reported) >= failingReminder:
		log.Log(context.Background(), l.level, l.what+" still failing; retrying with backoff", append(spell, "err", errText,
			"failed_attempts", l.failures, "failing_for", now.Sub(l.since).Round(time.Second).String())...)
		l.reported, l.failures = now, 0
	}
}

// succeeded records a success, which ends a failing spell.
func (l *failureLog) succeeded(log *slog.Logger, now time.Time, spell ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.failing {
		return
	}
	log.Info(l.what+" succeeding again", append(spell, "failed_attempts", l.total,
		"failing_for", now.Sub(l.since).Round(time.Second).String())...)
	l.failing = false
}

// destinationLog is the failureLog of one notifier's deliveries, with its
// pauses.
type destinationLog struct {
	failureLog

	pauseLogged time.Time // when a pause was last logged
	pauses      int       // pauses since
}

func newDestinationLog() *destinationLog {
	return &destinationLog{failureLog: failureLog{what: "alert deliveries", level: slog.LevelWarn}}
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

// retrying records a delivery attempt that failed and will be retried.
func (l *destinationLog) retrying(log *slog.Logger, now time.Time, notifier, errText string, attrs ...any) {
	l.failed(log, now, errText, []any{"notifier", notifier}, attrs...)
}

// delivered records a successful delivery, which ends a failing spell.
func (l *destinationLog) delivered(log *slog.Logger, now time.Time, notifier string) {
	l.succeeded(log, now, "notifier", notifier)
}
