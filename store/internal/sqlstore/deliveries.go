package sqlstore

import (
	"fmt"

	"github.com/ticket-watchdog/watchdog"
)

// CheckOutcome reports an outcome Store.FinishDeliveries must refuse (an
// error matching watchdog.ErrInvalid): an unknown status, a retry without a
// RetryAt, or an unsent outcome that is not a retry.
func CheckOutcome(o watchdog.DeliveryOutcome) error {
	switch o.Status {
	case watchdog.DeliveryDelivered, watchdog.DeliveryFailed:
	case watchdog.DeliveryPending:
		if o.RetryAt.IsZero() {
			return fmt.Errorf("finish delivery %d: retry without a RetryAt: %w", o.ID, watchdog.ErrInvalid)
		}
	default:
		return fmt.Errorf("finish delivery %d: unknown status %q: %w", o.ID, o.Status, watchdog.ErrInvalid)
	}
	if o.Unsent && o.Status != watchdog.DeliveryPending {
		return fmt.Errorf("finish delivery %d: unsent but %q: %w", o.ID, o.Status, watchdog.ErrInvalid)
	}
	return nil
}
