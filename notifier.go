package watchdog

import (
	"context"
	"time"
)

// Notifier delivers one alert to one destination (Slack, a webhook, ...).
// When Deliver fails it says whether a later attempt may succeed; the error
// may also carry a wait (see RetryAfterError), as for HTTP 429.
type Notifier interface {
	Deliver(ctx context.Context, a Alert) (retry bool, err error)
}

// BatchNotifier is a Notifier that can also deliver several alerts as one
// message, as Slack needs when many alerts come due at once: its rate
// limits (about one message per second per webhook or channel) would spread
// a burst of single-alert messages over hours. The engine groups only
// alerts already queued for the notifier when a sender becomes free, so a
// lone alert always goes through Deliver, at once.
type BatchNotifier interface {
	Notifier
	// DeliverBatch delivers 2 to MaxBatch alerts as one unit: all or none,
	// with the same retry decision as Deliver.
	DeliverBatch(ctx context.Context, alerts []Alert) (retry bool, err error)
	// MaxBatch is the most alerts one DeliverBatch call takes; below 2
	// means alerts are always delivered one by one.
	MaxBatch() int
}

// DigestNotifier is a Notifier that can sum up any number of alerts in one
// message: a digest, which lists the first DigestEntries of them and counts
// the rest (with a link to the dashboard). A notification route with a
// group_interval sends its receivers' queued alerts as one digest per
// interval.
type DigestNotifier interface {
	Notifier
	DeliverDigest(ctx context.Context, alerts []Alert) (retry bool, err error)
}

// DigestEntries is how many alerts a digest lists one by one.
const DigestEntries = 50

// AckNotifier is a Notifier whose destination tracks acknowledgements
// itself, as PagerDuty's incidents do: Engine.Acknowledge tells it of each
// acknowledgement made. It is told once, at most DeliveryTimeout after the
// acknowledgement is stored, without retries (the acknowledgement itself
// is stored either way).
type AckNotifier interface {
	Notifier
	Acknowledged(ctx context.Context, a Ack) error
}

// ResolveNotifier is a Notifier whose destination closes incidents itself,
// as PagerDuty's do: when an ingest stops a clock cycle that had alerts (a
// first response stops the response clock, an agent reply a next-reply
// cycle) or closes its ticket (a resolved status), the engine tells it of
// that cycle, once, in the background and within DeliveryTimeout, without
// retries.
type ResolveNotifier interface {
	Notifier
	Resolved(ctx context.Context, ticketID string, c SLAClock, cycle int64) error
}

// NotifierFunc adapts a function to the Notifier interface.
type NotifierFunc func(ctx context.Context, a Alert) (retry bool, err error)

// Deliver calls f.
func (f NotifierFunc) Deliver(ctx context.Context, a Alert) (bool, error) { return f(ctx, a) }

// RetryAfterError is a retryable delivery failure whose destination asked
// for a wait: HTTP 429 Too Many Requests, or 503 Service Unavailable. The
// engine then pauses the whole destination (the notifier) until After has
// passed, or for one backoff interval when After is zero (no Retry-After
// header); deliveries waiting for it are not attempted meanwhile, and those
// refused are retried together when the pause ends.
type RetryAfterError struct {
	// After is the wait the destination asked for; zero when it named none.
	After time.Duration
	// Throttled marks a refusal under the destination's rate limit (429):
	// the attempt then does not count towards Config.MaxAttempts, so that a
	// rate limit delays deliveries and never uses up their attempts.
	Throttled bool
	Err       error
}

func (e *RetryAfterError) Error() string {
	msg := "retry after " + e.After.String()
	if e.Err == nil {
		return msg
	}
	return e.Err.Error() + " (" + msg + ")"
}

// Unwrap returns the cause.
func (e *RetryAfterError) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Err
}
