// Package ui is watchdogd's web UI: server-rendered pages under /ui/ over
// the engine, beside the JSON API (package api), which stays mountable
// without them.
//
//   - Queue (/ui/): open tickets, soonest breach first, with each SLA
//     clock's state, live countdowns to the next stage and to breach
//     (counted from the server's clock), filters and paging in the URL.
//   - Live feed (/ui/feed): alerts as they fire, over /ws/alerts; after a
//     lost connection it reconnects by itself and fills the gap from
//     GET /alerts.
//   - Ticket (/ui/tickets/{id}): the timeline, each clock's business time
//     against its stages as a bar, the alerts with their deliveries.
//   - Compliance (/ui/compliance): achieved % per tier per week as an SVG
//     chart with a CSV download, from a ComplianceSource.
//   - Policy (/ui/policy): the SLA policy in force, its calendars, and the
//     last failed reload.
//
// Pages are html/template with their assets embedded: no build step, no
// third-party script, nothing fetched from elsewhere. They work without
// JavaScript but for the live parts (assets/live.js, hand-written).
//
// With Config.APIToken set, a login form asks for the token once and sets
// a session cookie holding an expiry and an HMAC of it keyed by the token
// (never the token), HttpOnly, SameSite=Strict, Secure over TLS or behind
// X-Forwarded-Proto: https. Handler.Authorized checks it; package server
// gives it to api.Config.SessionAuth so the cookie also authorises the
// API's GET routes and /ws/alerts. Every state-changing form carries a
// CSRF token (double-submit cookie), with or without a token.
//
//	h, err := ui.New(engine, &ui.Config{APIToken: token})
//	mux.Handle("/ui/", h)
package ui
