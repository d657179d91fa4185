// Package watchdogtest helps test code that uses Ticket Watchdog against the
// real engine, with SLA deadlines of hours passing instantly and
// deterministically:
//
//   - Clock is a fake watchdog.Clock that tests move by hand.
//   - StartEngine runs an engine over any watchdog.Store on such a clock
//     for the length of a test; its Harness advances the clock, letting the
//     engine settle before and after each move, and reads back the tickets,
//     alerts and deliveries the engine recorded.
//   - Recorder is a notifier that records what it is handed, alone or
//     around a notifier under test.
//   - Settle waits until an engine is idle, for tests that run one
//     themselves.
//
// A test of code that receives alerts:
//
//	rec := watchdogtest.NewRecorder(myNotifier)
//	h := watchdogtest.StartEngine(t, store, watchdogtest.NewClock(created),
//		&watchdog.Config{Notifiers: map[string]watchdog.Notifier{"mine": rec}})
//	h.Ingest(event)             // a gold/high ticket created at created
//	h.Advance(30 * time.Minute) // its response alert and breach fire and are delivered
//	alerts := rec.Alerts()      // both (sent at once, so in either order)
package watchdogtest
