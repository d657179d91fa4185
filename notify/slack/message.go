package slack

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/ticket-watchdog/watchdog"
)

// Attachment colours by severity.
const (
	colorAlert      = "warning" // Slack's orange
	colorBreach     = "danger"  // Slack's red
	colorEscalation = "#8B0000" // dark red: past breach and still open
)

type message struct {
	text       string
	attachment slack.Attachment
}

// maxFields is how many fields an alert's attachment has at most.
const maxFields = 11

// buildMessage lays out one alert for a person to act on: a one-line text
// for notifications and clients without attachments, and a coloured
// attachment with one field per fact.
func buildMessage(a watchdog.Alert, c Config) message {
	return buildMessageInto(a, c, make([]slack.AttachmentField, 0, maxFields))
}

// buildMessageInto is buildMessage with the attachment's fields appended to
// fields, which has room for maxFields.
func buildMessageInto(a watchdog.Alert, c Config, fields []slack.AttachmentField) message {
	label, color := severity(a)
	clock := string(a.SLAClock)
	if clock == "" {
		clock = "unknown"
	}
	scope := orNA(a.CustomerTier) + "/" + orNA(a.Priority)
	// Concatenation rather than Sprintf, which boxes each argument: a
	// burst builds tens of thousands of these.
	level := strconv.Itoa(a.EscalationLevel)
	text := label + ": ticket " + a.TicketID + " " + clock + " SLA (" + scope + ", escalation level " + level + ")"
	if a.Message != "" {
		text += ": " + a.Message
	}
	text = escape(text)

	// The six fields always there, then the five (maxFields in all) that
	// depend on the alert.
	fields = append(fields,
		slack.AttachmentField{Title: "Ticket", Value: escape(orNA(a.TicketID)), Short: true},
		slack.AttachmentField{Title: "State", Value: escape(label), Short: true},
		slack.AttachmentField{Title: "Customer tier", Value: escape(orNA(a.CustomerTier)), Short: true},
		slack.AttachmentField{Title: "Priority", Value: escape(orNA(a.Priority)), Short: true},
		slack.AttachmentField{Title: "SLA", Value: escape(clock), Short: true},
		slack.AttachmentField{Title: "Escalation level", Value: level, Short: true},
	)
	if a.Policy != "" {
		fields = append(fields, slack.AttachmentField{Title: "Policy", Value: escape(a.Policy), Short: true})
	}
	if a.CycleStartedAt != nil {
		fields = append(fields, slack.AttachmentField{Title: "Cycle",
			Value: fmt.Sprintf("%d, since %s", a.Cycle, a.CycleStartedAt.UTC().Format(time.RFC3339)), Short: true})
	}
	if a.Target > 0 || a.Elapsed > 0 {
		v := formatDuration(a.Elapsed)
		if a.Target > 0 {
			v += " of " + formatDuration(a.Target)
		}
		fields = append(fields, slack.AttachmentField{Title: "Elapsed", Value: v, Short: true})
	}
	if !a.DueAt.IsZero() {
		fields = append(fields, slack.AttachmentField{Title: "Due", Value: a.DueAt.UTC().Format(time.RFC3339), Short: true})
	}
	if a.Message != "" {
		fields = append(fields, slack.AttachmentField{Title: "Details", Value: escape(a.Message)})
	}
	if a.AcknowledgedBy != "" {
		fields = append(fields, slack.AttachmentField{Title: "Acknowledged by", Value: escape(a.AcknowledgedBy), Short: true})
	}

	att := slack.Attachment{
		Color:     color,
		Fallback:  text,
		Title:     escape(label + ": ticket " + a.TicketID),
		TitleLink: ticketLink(c.DashboardURL, a.TicketID),
		Fields:    fields,
		Footer:    "Ticket Watchdog",
	}
	if !a.FiredAt.IsZero() {
		att.Ts = json.Number(strconv.FormatInt(a.FiredAt.Unix(), 10))
	}
	return message{text: text, attachment: att}
}

// summaryText is the text line of a message about several alerts: how many
// of each kind, in order of severity, e.g. "12 SLA alerts: 9 BREACH, 3 ALERT".
func summaryText(alerts []watchdog.Alert) string {
	counts := map[string]int{}
	var labels []string
	for _, a := range alerts {
		label, _ := severity(a)
		if counts[label] == 0 {
			labels = append(labels, label)
		}
		counts[label]++
	}
	rank := func(l string) int {
		switch {
		case strings.HasPrefix(l, "ESCALATION"):
			return 0
		case l == "BREACH":
			return 1
		}
		return 2
	}
	slices.SortStableFunc(labels, func(a, b string) int {
		if r := rank(a) - rank(b); r != 0 {
			return r
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(labels))
	for i, l := range labels {
		parts[i] = fmt.Sprintf("%d %s", counts[l], l)
	}
	return escape(fmt.Sprintf("%d SLA alerts: %s", len(alerts), strings.Join(parts, ", ")))
}

// severity names the alert's stage for people and picks its colour.
func severity(a watchdog.Alert) (label, color string) {
	switch {
	case a.Stage == watchdog.StageAlert:
		return "ALERT", colorAlert
	case a.Stage == watchdog.StageBreach:
		return "BREACH", colorBreach
	case strings.HasPrefix(a.Stage, "escalation-"):
		return "ESCALATION " + strings.TrimPrefix(a.Stage, "escalation-"), colorEscalation
	case strings.EqualFold(a.State, "alert"):
		return "ALERT", colorAlert
	}
	return "BREACH", colorBreach
}

// ticketLink is the dashboard URL of a ticket, or "" without a dashboard.
func ticketLink(dashboard, id string) string {
	if dashboard == "" || id == "" {
		return ""
	}
	if strings.Contains(dashboard, "{id}") {
		return strings.ReplaceAll(dashboard, "{id}", url.PathEscape(id))
	}
	return strings.TrimRight(dashboard, "/") + "/tickets/" + url.PathEscape(id)
}

// formatDuration writes d for people: "2h 33m", "25m 30s", "3h", "0s".
func formatDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d <= 0 {
		return "0s"
	}
	var parts []string
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.unit; n > 0 {
			parts = append(parts, strconv.FormatInt(int64(n), 10)+u.name)
			d -= n * u.unit
		}
	}
	return strings.Join(parts, " ")
}

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// escape makes text literal in Slack's mrkdwn, where <...> would make
// links and mentions (<!channel>): every field of a message that holds
// anything from a ticket (ids, tiers, priorities, details, stage names)
// goes through it.
func escape(s string) string { return escaper.Replace(s) }

func orNA(s string) string {
	if s == "" {
		return "n/a"
	}
	return s
}

// dashboardLink is the dashboard's queue page for a digest's overflow: the
// public URL's origin with /ui/, or "" without one.
func dashboardLink(dashboard string) string {
	u, err := url.Parse(dashboard)
	if dashboard == "" || err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host + "/ui/"
}
