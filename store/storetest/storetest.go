// Package storetest is the conformance suite every watchdog.Store passes.
// A store's own _test.go calls Run with a Harness that opens fresh databases:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, storetest.Harness{Open: func(t testing.TB) (watchdog.Store, func(testing.TB) watchdog.Store) {
//			path := filepath.Join(t.TempDir(), "watchdog.db")
//			open := func(t testing.TB) watchdog.Store { ... open path, t.Cleanup(Close) ... }
//			return open(t), open
//		}})
//	}
//
// Every case uses fixed instants (Base plus offsets) and explicit "now"
// values, never the wall clock. The helpers (NewEvent, FirePlan, Recorder,
// ...) are exported for stores' own tests.
package storetest

import (
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// Harness opens stores for the suite.
type Harness struct {
	// Open returns a store over a fresh, empty database (closed via
	// t.Cleanup), and a function that opens another independent handle (its
	// own connection pool) on that same database, also closed via t.Cleanup.
	// The suite may Close a handle itself too, so Close must be safe to call
	// twice.
	Open func(t testing.TB) (s watchdog.Store, another func(t testing.TB) watchdog.Store)

	// SharedFeed reports that SubscribeAlerts on one handle receives alerts
	// recorded through another handle on the same database (Postgres
	// LISTEN/NOTIFY). When false, the suite only checks that a subscriber
	// sees alerts recorded through its own handle.
	SharedFeed bool
}

// waitLong bounds how long a case waits for something asynchronous (a
// subscription, concurrent workers) before failing instead of hanging.
const waitLong = 20 * time.Second

// Run runs every case of the suite as a parallel subtest; each opens its own
// database.
func Run(t *testing.T, h Harness) {
	if h.Open == nil {
		t.Fatal("storetest: Harness.Open is nil")
	}
	cases := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"IngestReturnsTickets", testIngestReturnsTickets},
		{"IngestIdempotent", testIngestIdempotent},
		{"IngestLateEvent", testIngestLateEvent},
		{"IngestSameIDInBatch", testIngestSameIDInBatch},
		{"IngestFirstResponseEarliest", testIngestFirstResponseEarliest},
		{"MergeLateEvents", testMergeLateEvents},
		{"MergeReplay", testMergeReplay},
		{"MergeConflictingDuplicate", testMergeConflictingDuplicate},
		{"MergeFirstResponseKept", testMergeFirstResponseKept},
		{"MergeFirstEventKept", testMergeFirstEventKept},
		{"IngestAtomic", testIngestAtomic},
		{"IngestKeepsEscalation", testIngestKeepsEscalation},
		{"IngestLargeBatch", testIngestLargeBatch},
		{"IngestConcurrentOverlap", testIngestConcurrentOverlap},
		{"EvaluateDue", testEvaluateDue},
		{"EvaluateDueLimitOrder", testEvaluateDueLimitOrder},
		{"EvaluateDueStageOnce", testEvaluateDueStageOnce},
		{"EvaluateDueConcurrent", testEvaluateDueConcurrent},
		{"EvaluateDueClaimed", testEvaluateDueClaimed},
		{"EvaluateDueColumns", testEvaluateDueColumns},
		{"EvaluatePreplannedWrittenMeanwhile", testEvaluatePreplannedWrittenMeanwhile},
		{"EvaluatePreplannedFiredMeanwhile", testEvaluatePreplannedFiredMeanwhile},
		{"EvaluatePreplannedConcurrent", testEvaluatePreplannedConcurrent},
		{"ClaimDeliveriesLease", testClaimDeliveriesLease},
		{"ClaimDeliveriesConcurrent", testClaimDeliveriesConcurrent},
		{"ClaimDeliveriesOldestFirst", testClaimDeliveriesOldestFirst},
		{"ClaimsRescue", testClaimsRescue},
		{"HandoffOutcomes", testHandoffOutcomes},
		{"HandoffBackstop", testHandoffBackstop},
		{"HandoffRescued", testHandoffRescued},
		{"HandoffReroute", testHandoffReroute},
		{"FinishDelivery", testFinishDelivery},
		{"FinishDeliveryUnsent", testFinishDeliveryUnsent},
		{"FinishDeliveryAnyErrorText", testFinishDeliveryAnyErrorText},
		{"NextDueNextDelivery", testNextDueNextDelivery},
		{"DueInstantMoves", testDueInstantMoves},
		{"Replan", testReplan},
		{"BackfilledAtKept", testBackfilledAtKept},
		{"OutcomesReport", testOutcomesReport},
		{"OutcomesFollowTimeline", testOutcomesFollowTimeline},
		{"OutcomesPeriods", testOutcomesPeriods},
		{"OutcomesReportMatchesRows", testOutcomesReportMatchesRows},
		{"OutcomesBackfill", testOutcomesBackfill},
		{"OutcomesReplan", testOutcomesReplan},
		{"OutcomesCyclesPolicy", testOutcomesCyclesPolicy},
		{"Dashboard", testDashboard},
		{"DashboardCountLimit", testDashboardCountLimit},
		{"DashboardClocks", testDashboardClocks},
		{"AlertsNewestFirst", testAlertsNewestFirst},
		{"TicketNotFound", testTicketNotFound},
		{"SubscribeAlerts", testSubscribeAlerts},
		{"SubscribeSlowReader", testSubscribeSlowReader},
		{"ContextCanceled", testContextCanceled},
		{"Closed", testClosed},
		{"TimesRoundTrip", testTimesRoundTrip},
		{"IngestExtras", testIngestExtras},
		{"MessagesFromStoredEvents", testMessagesFromStoredEvents},
		{"PlansSeeMessages", testPlansSeeMessages},
		{"PolicyStored", testPolicyStored},
		{"CycleAlerts", testCycleAlerts},
		{"EvaluateDueRouted", testEvaluateDueRouted},
		{"Acknowledge", testAcknowledge},
		{"Reroute", testReroute},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t, h)
		})
	}
}
