// Package watchdog is Ticket Watchdog's SLA engine: it keeps each support
// ticket's SLA clocks (response and resolution, and the conversation's next
// reply and periodic update, which run in cycles), fires each escalation stage
// exactly once at its due instant, and delivers the alerts through a
// durable outbox to notifiers such as Slack.
//
// Terminology: a [Clock] is the time source (the system clock, or a fake one
// in tests); the response and resolution clocks a ticket runs against its
// targets are "SLA clocks" ([SLAClock]).
//
// # Tour
//
//   - Ticket events ([Event]) come from any helpdesk, with optional
//     attributes, tags and public messages ([Message]): decode them with
//     [DecodeEvents], which names every bad item and field.
//   - The SLA file ([ParsePolicy], [LoadPolicyFile]) gives a [Policy]:
//     ordered policies ([SLAPolicy]) chosen by a [Match] on tier, priority,
//     attributes and tags, then targets by (customer tier, priority), stage
//     thresholds, status sets and business-hours calendars ([Calendar]) with
//     time zones and holidays. [Policy.Select] names the one in force.
//   - [Evaluate] is the SLA clock arithmetic: a pure function of a ticket's
//     timeline, the policy and an instant. It yields each SLA clock's state
//     and business time used, the instants of its stages, the alerts due and
//     the next instant anything happens.
//   - The [Engine] ([New]) puts it together over a [Store] (package
//     store/sqlite, the embedded default, or store/postgres, which scales
//     out over several processes) and notifiers ([Notifier]: notify/slack, or your
//     own via [NotifierFunc]); [Engine.Subscribe] streams every alert, which
//     notify/websocket serves to WebSocket clients. [Engine.Run] sleeps until
//     the next due instant, so alerts fire on time rather than at the next
//     sweep.
//   - Time comes from a [Clock]; package watchdogtest has a fake one that
//     tests advance by hand, and a harness that runs an engine on it.
//
// # For store implementers and tests
//
// [Store] is the contract a store fulfils; [Plan], [PlanFunc],
// [DeliveryOutcome] and [Ticket.Merge] exist for its
// implementations, which must pass the conformance suite in store/storetest.
// A library user picks a store and never calls them. Stores translate their
// drivers' errors into the sentinels at their boundary: a database that
// cannot answer now (unreachable, starting up, out of disk space) is
// [ErrUnavailable] ([ErrStorageFull] for a full disk), which a caller may
// retry later. [Engine.Hooks] gives tests and tools what a service never
// needs: whether the engine is idle, and evaluation step by step.
//
// # Guarantees
//
// An ingested batch is validated whole and written in one transaction. An
// alert is recorded in the same transaction as its escalation bump and its
// pending deliveries, under a unique key per (ticket, SLA clock, stage,
// cycle), so each stage fires once however many evaluations, restarts or
// replicas there are. Deliveries are retried as the [RetryPolicy] says until
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
