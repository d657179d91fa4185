// Package notify holds small building blocks for watchdog.Notifier
// implementations: Fanout delivers one alert to several notifiers, Router
// sends alerts to the notifiers whose Match they satisfy, and
// HTTPStatusRetryable and RetryAfter classify HTTP failures the way the
// engine's delivery loop expects.
//
// The engine keeps an outbox with one delivery row per named notifier and
// retries each row with exponential backoff, so a notifier makes exactly one
// attempt per Deliver call and reports whether a later attempt may succeed:
//
//	func (n *hook) Deliver(ctx context.Context, a watchdog.Alert) (bool, error) {
//		resp, err := n.client.Do(req)
//		if err != nil {
//			return true, fmt.Errorf("hook: POST failed: %w", err) // network errors retry
//		}
//		defer resp.Body.Close()
//		if resp.StatusCode/100 == 2 {
//			return false, nil
//		}
//		err = fmt.Errorf("hook: HTTP %d", resp.StatusCode)
//		if d, ok := notify.RetryAfter(resp.Header, time.Now()); ok {
//			err = &watchdog.RetryAfterError{After: d, Err: err}
//		}
//		return notify.HTTPStatusRetryable(resp.StatusCode), err
//	}
//
// Registering several notifiers with the engine gives each its own outbox
// row, retried and recorded on its own: that is the durable way to send an
// alert to several places. Fanout and Router are the convenient way to put
// several destinations behind one name; they remember in memory which members
// already succeeded, so a process restart may send to those members again.
package notify
