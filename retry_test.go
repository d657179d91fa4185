package watchdog_test

import (
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

func TestExponentialBackoffGrowsAndIsBounded(t *testing.T) {
	b := watchdog.ExponentialBackoff{Base: time.Second, Max: time.Minute}
	for attempt := 1; attempt <= 20; attempt++ {
		want := time.Second << (attempt - 1)
		if want > time.Minute || want <= 0 {
			want = time.Minute
		}
		for i := 0; i < 50; i++ {
			d := b.RetryDelay(attempt)
			if d < want/2 || d > want {
				t.Fatalf("attempt %d: delay %v outside [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
}
