// Package watchdog is Ticket Watchdog's SLA engine: it keeps each support
// ticket's response and resolution clocks, fires each escalation stage
// exactly once at its due instant, and delivers the alerts through a
// durable outbox to notifiers such as Slack and a WebSocket stream.
//
// # Tour
//
//   - Ticket events ([Event]) come from any helpdesk: decode them with
//     [DecodeEvents], which names every bad item and field.
//   - The SLA file ([ParsePolicy], [LoadPolicyFile]) gives targets by
//     (customer tier, priority), stage thresholds, status sets and
//     business-hours [Calendar]s with time zones and holidays.
//   - [Evaluate] is the clock arithmetic: a pure function of a ticket's
//     timeline, the policy and an instant. It yields each clock's state and
//     business time used, the instants of its stages, the alerts due and the
//     next instant anything happens.
//   - The [Engine] ([New]) puts it together over a [Store] (package
//     store/sqlite, the embedded default, or store/postgres, which scales
//     out over several processes) and [Notifier]s (notify/slack,
//     notify/websocket, or your own via [NotifierFunc]). [Engine.Run] sleeps
//     until the next due instant, so alerts fire on time rather than at the
//     next sweep.
//   - Time comes from a [Clock]; package watchdogtest has a fake one that
//     tests advance by hand.
//
// # Guarantees
//
// An ingested batch is validated whole and written in one transaction. An
// alert is recorded in the same transaction as its escalation bump and its
// pending deliveries, under a unique key per (ticket, clock, stage, cycle),
// so each stage fires once however many evaluations, restarts or replicas
// there are. Deliveries are retried with exponential backoff and jitter until
// they succeed, a notifier calls the failure permanent, or the attempts run
// out; each outcome is recorded on the delivery.
//
// A minimal embedding:
//
//	st, _ := sqlite.Open(ctx, "watchdog.db", nil)
//	eng, _ := watchdog.New(st, &watchdog.Config{Policy: policy, Notifiers: map[string]watchdog.Notifier{"slack": slackNotifier}})
//	go eng.Run(ctx)
//	eng.Ingest(ctx, events)
package watchdog
