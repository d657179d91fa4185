// Ticket Watchdog's live parts: countdowns counted from the server's
// clock, clock states that turn when their instants pass, and the alert
// stream (/ws/alerts) with reconnection and gap filling from GET /alerts.
// Hand-written, no dependencies; the pages work without it.
(function () {
  "use strict";
  var serverNow = Number(document.body.dataset.serverNow);
  var loadedAt = performance.now();
  // now is the server's clock: its time at render plus the time elapsed
  // here since, measured by the monotonic clock, never the wall clock.
  function now() { return serverNow + (performance.now() - loadedAt); }

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function duration(ms) {
    var s = Math.round(Math.abs(ms) / 1000);
    var d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60, sec = s % 60;
    if (d > 0) return d + "d " + pad(h) + "h";
    if (h > 0) return h + "h " + pad(m) + "m";
    if (m > 0) return m + "m " + pad(sec) + "s";
    return sec + "s";
  }
  function relative(ms) { return ms >= 0 ? "in " + duration(ms) : duration(ms) + " ago"; }
  function when(iso) {
    var t = new Date(iso);
    return t.getUTCFullYear() + "-" + pad(t.getUTCMonth() + 1) + "-" + pad(t.getUTCDate()) + " " +
      pad(t.getUTCHours()) + ":" + pad(t.getUTCMinutes()) + ":" + pad(t.getUTCSeconds()) + " UTC";
  }
  var labels = { ok: "✓ ok", alert: "▲ alert", breach: "✖ breach", paused: "‖ paused", met: "✓ met", missed: "✖ missed", untracked: "– untracked", idle: "○ idle" };
  var rank = { ok: 0, met: 0, paused: 0, idle: 0, alert: 1, breach: 2, missed: 2 };

  function setState(el, state) {
    if (!el) return;
    el.className = "state " + state;
    el.textContent = labels[state] || state;
  }

  // A clock element (data-clock) turns to alert and to breach at its
  // instants; an alert from the stream can only raise it. Its ticket's
  // state follows: the worst of its clocks.
  function raiseClock(el, state) {
    var cur = el.dataset.state;
    if (cur !== "ok" && cur !== "alert" || rank[state] <= rank[cur]) return;
    el.dataset.state = state;
    setState(el.querySelector("[data-clock-state]"), state);
    var scope = el.closest("tr[data-ticket]") || document.querySelector("main");
    var ts = scope.querySelector("[data-ticket-state]");
    if (!ts || ts.classList.contains("untracked")) return;
    var worst = "ok";
    scope.querySelectorAll("[data-clock]").forEach(function (c) {
      var st = c.dataset.state === "missed" ? "breach" : c.dataset.state;
      if ((rank[st] || 0) > rank[worst]) worst = st;
    });
    setState(ts, worst);
  }

  // clocksOf finds the elements of one clock of a ticket on this page.
  function clocksOf(ticket, clock) {
    var sel = '[data-clock="' + CSS.escape(clock) + '"]', out = [];
    var row = document.querySelector('tr[data-ticket="' + CSS.escape(ticket) + '"]');
    if (row) out = out.concat(Array.prototype.slice.call(row.querySelectorAll(sel)));
    if (document.querySelector('[data-ticket-page="' + CSS.escape(ticket) + '"]')) {
      out = out.concat(Array.prototype.slice.call(document.querySelectorAll("article" + sel)));
    }
    return out;
  }

  function tick() {
    var t = now();
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      el.textContent = relative(Number(el.dataset.countdown) - t);
    });
    document.querySelectorAll("[data-clock]").forEach(function (li) {
      if (li.dataset.breachAt && t >= Number(li.dataset.breachAt)) raiseClock(li, "breach");
      else if (li.dataset.alertAt && t >= Number(li.dataset.alertAt)) raiseClock(li, "alert");
    });
  }
  tick();
  setInterval(tick, 250);

  // The alert stream.
  var status = document.querySelector("[data-live-status]");
  var feed = document.querySelector("[data-feed]");
  var lastID = feed ? Number(feed.dataset.lastId) || 0 : 0;
  function say(text, down) {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("down", !!down);
  }

  // normalise takes a stream message or an API alert.
  function normalise(a) {
    return {
      id: a.alert_id || a.id, ticket: a.ticket_id, clock: a.sla_type, stage: a.stage, state: a.state,
      message: a.details && a.details.message || "", fired: a.timestamp || a.created_at, due: a.due_at,
      level: a.escalation_level, tier: a.customer_tier, priority: a.priority
    };
  }

  function span(cls, text) {
    var s = document.createElement("span");
    s.className = cls;
    s.textContent = text;
    return s;
  }

  // addToFeed inserts an alert in id order, newest first, once.
  function addToFeed(a, filled) {
    if (!feed || feed.querySelector('[data-alert-id="' + a.id + '"]')) return false;
    var li = document.createElement("li");
    li.className = "alert " + a.state + " new";
    li.dataset.alertId = a.id;
    li.appendChild(span("state " + a.state, labels[a.state] || a.state));
    var link = document.createElement("a");
    link.href = "/ui/tickets/" + encodeURIComponent(a.ticket);
    link.textContent = a.ticket;
    li.appendChild(link);
    li.appendChild(span("what", a.clock + " " + a.stage));
    li.appendChild(span("msg", a.message));
    if (filled) li.appendChild(span("filled", "(filled in after reconnecting)"));
    li.appendChild(span("meta", a.tier + " / " + a.priority + " · level " + a.level + " · fired " + when(a.fired) + ", " +
      duration(new Date(a.fired) - new Date(a.due)) + " after due"));
    var before = null;
    feed.querySelectorAll("[data-alert-id]").forEach(function (el) {
      if (!before && Number(el.dataset.alertId) < a.id) before = el;
    });
    feed.insertBefore(li, before);
    var empty = document.querySelector("[data-feed-empty]");
    if (empty) empty.hidden = true;
    return true;
  }

  // onAlert shows an alert; it reports whether the feed gained it.
  function onAlert(a, filled) {
    if (a.id > lastID) lastID = a.id;
    clocksOf(a.ticket, a.clock).forEach(function (el) { raiseClock(el, a.state === "alert" ? "alert" : "breach"); });
    if (!filled && document.querySelector('[data-ticket-page="' + CSS.escape(a.ticket) + '"]')) {
      say("New alert: " + a.clock + " " + a.stage + " fired " + when(a.fired) + ". Reload to see its deliveries.");
    }
    return addToFeed(a, filled);
  }

  // fillGap reads what fired since the last alert seen, page by page back.
  function fillGap(after, before, count, mark) {
    var url = "/alerts?limit=1000&after_id=" + after + (before ? "&before_id=" + before : "");
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) throw new Error("GET /alerts answered " + r.status);
      return r.json();
    }).then(function (list) {
      list.forEach(function (a) { if (onAlert(normalise(a), mark)) count++; });
      if (list.length === 1000) return fillGap(after, list[list.length - 1].id, count, mark);
      return count;
    });
  }

  var delay = 500, everConnected = false;
  function connect() {
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/alerts");
    var opened = false;
    ws.onopen = function () {
      opened = true;
      delay = 500;
      var again = everConnected;
      everConnected = true;
      say(again ? "Reconnected to the alert stream." : "Live: connected to the alert stream.");
      if (!feed) return;
      var from = lastID;
      fillGap(from, 0, 0, again).then(function (n) {
        if (n > 0 && again) say("Live again: filled in " + n + " alert" + (n === 1 ? "" : "s") + " missed while disconnected.");
      }).catch(function (err) { say("Live, but missed alerts could not be read: " + err.message, true); });
    };
    ws.onmessage = function (ev) {
      try { onAlert(normalise(JSON.parse(ev.data)), false); } catch (e) { /* not an alert */ }
    };
    ws.onclose = function () {
      var wait = delay;
      delay = Math.min(delay * 2, 8000);
      say((opened || everConnected ? "Disconnected from the server" : "Cannot reach the alert stream") +
        ": reconnecting in " + Math.ceil(wait / 1000) + " s…", true);
      setTimeout(connect, wait);
    };
  }
  if (status && "WebSocket" in window) connect();
})();
