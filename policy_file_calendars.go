package watchdog

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// weekdays maps the accepted weekday keys to weekdays.
var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "sunday": time.Sunday,
	"mon": time.Monday, "monday": time.Monday,
	"tue": time.Tuesday, "tuesday": time.Tuesday,
	"wed": time.Wednesday, "wednesday": time.Wednesday,
	"thu": time.Thursday, "thursday": time.Thursday,
	"fri": time.Friday, "friday": time.Friday,
	"sat": time.Saturday, "saturday": time.Saturday,
}

func normWeekday(s string) string {
	if d, ok := weekdays[strings.ToLower(strings.TrimSpace(s))]; ok {
		return d.String()
	}
	return strings.ToLower(s)
}

func (ps *parser) calendars(e *entry, out map[string]*Calendar, declared map[string]string) {
	entries, ok := ps.mapping(e.val, e.path, strings.ToLower)
	if !ok {
		return
	}
	for i := range entries {
		ce := &entries[i]
		declared[ce.norm] = ce.name
		if strings.EqualFold(ce.name, (*Calendar)(nil).Name()) {
			ps.add(ce.key.Line, ce.path, "the name 24x7 is reserved for the round-the-clock calendar")
			continue
		}
		if cal := ps.calendar(ce); cal != nil {
			out[ce.name] = cal
		}
	}
}

func (ps *parser) calendar(ce *entry) *Calendar {
	before := ps.count()
	entries, ok := ps.mapping(ce.val, ce.path, exact)
	if !ok {
		return nil
	}
	if len(entries) == 0 {
		ps.add(ce.key.Line, ce.path, "a calendar needs a timezone and hours")
		return nil
	}
	cfg := CalendarConfig{Hours: map[time.Weekday][]string{}}
	valid, hasZone, hasHours := true, false, false
	for i := range entries {
		f := &entries[i]
		switch f.name {
		case "timezone":
			hasZone = true
			v, ok := ps.str(f.val, f.path)
			if !ok {
				valid = false
				continue
			}
			if _, err := time.LoadLocation(v); err != nil || v == "" || strings.EqualFold(v, "local") {
				ps.add(f.val.Line, f.path, "%s is not an IANA time zone (such as America/New_York or UTC)", show(v))
				valid = false
				continue
			}
			cfg.TimeZone = v
		case "hours":
			hasHours = true
			if !ps.hours(f, cfg.Hours) {
				valid = false
			}
		case "holidays":
			items, ok := ps.sequence(f.val, f.path)
			if !ok {
				valid = false
				continue
			}
			for j, it := range items {
				path := fmt.Sprintf("%s[%d]", f.path, j)
				v, ok := ps.str(it, path)
				if !ok {
					valid = false
					continue
				}
				if _, err := time.Parse("2006-01-02", strings.TrimSpace(v)); err != nil {
					ps.add(it.Line, path, "%s is not a date such as 2026-12-25", show(v))
					valid = false
					continue
				}
				cfg.Holidays = append(cfg.Holidays, strings.TrimSpace(v))
			}
		case "country":
			v, ok := ps.str(f.val, f.path)
			if !ok {
				valid = false
				continue
			}
			cfg.Country = strings.ToUpper(strings.TrimSpace(v))
			if msg := checkCountry(cfg.Country); msg != "" {
				ps.add(f.val.Line, f.path, "%s %s", show(v), msg)
				valid = false
			}
		default:
			ps.unknown(f, "timezone", "hours", "holidays", "country")
			valid = false
		}
	}
	if !hasZone {
		ps.add(ce.key.Line, ce.path+".timezone", "missing (an IANA time zone such as America/New_York or UTC)")
		valid = false
	}
	if !hasHours {
		ps.add(ce.key.Line, ce.path+".hours", "missing (opening hours per weekday, such as mon: [\"09:00-17:00\"])")
		valid = false
	}
	if !valid || ps.count() != before {
		return nil
	}
	cal, err := NewCalendar(ce.name, cfg)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), fmt.Sprintf("calendar %q: ", ce.name))
		ps.addErr(ce.key.Line, ce.path, err, "%s", msg)
		return nil
	}
	return cal
}

// checkCountry returns what is wrong with a holiday country code, or "".
func checkCountry(code string) string {
	var national []string
	for _, c := range CalendarCountries() {
		if c == code {
			return ""
		}
		if !strings.Contains(c, "-") {
			national = append(national, c)
		}
	}
	return "is not a known holiday country (use one of " + strings.Join(national, ", ") + ", or a region such as CH-ZH; see CalendarCountries)"
}

// hours reads a calendar's weekday → ranges mapping into dst.
func (ps *parser) hours(f *entry, dst map[time.Weekday][]string) bool {
	entries, ok := ps.mapping(f.val, f.path, normWeekday)
	if !ok {
		return false
	}
	valid, open := true, false
	for i := range entries {
		de := &entries[i]
		day, known := weekdays[strings.ToLower(strings.TrimSpace(de.name))]
		if !known {
			ps.add(de.key.Line, de.path, "unknown weekday %s (use mon..sun or monday..sunday)", show(de.name))
			valid = false
			continue
		}
		var items []*yaml.Node
		if de.val.Kind == yaml.ScalarNode && !isNull(de.val) {
			items = []*yaml.Node{de.val} // a single range need not be a list
		} else if items, ok = ps.sequence(de.val, de.path); !ok {
			valid = false
			continue
		}
		type span struct {
			from, to, line int
			text, path     string
		}
		var spans []span
		ranges := []string{}
		for j, it := range items {
			path := fmt.Sprintf("%s[%d]", de.path, j)
			v, ok := ps.str(it, path)
			if !ok {
				valid = false
				continue
			}
			v = strings.TrimSpace(v)
			from, to, msg := parseRange(v)
			if msg != "" {
				ps.add(it.Line, path, "%s %s", show(v), msg)
				valid = false
				continue
			}
			// Report an overlap at the later-listed of the two ranges.
			for _, o := range spans {
				if from < o.to && o.from < to {
					ps.add(it.Line, path, "%s overlaps %s (%s)", show(v), show(o.text), o.path)
					valid = false
				}
			}
			spans = append(spans, span{from: from, to: to, line: it.Line, text: v, path: path})
			ranges = append(ranges, v)
		}
		open = open || len(ranges) > 0
		dst[day] = ranges
	}
	if valid && !open {
		ps.add(f.val.Line, f.path, "no opening hours on any weekday (list ranges such as mon: [\"09:00-17:00\"])")
		valid = false
	}
	return valid
}

// parseRange parses an opening range "HH:MM-HH:MM" into minutes after
// midnight, so that a problem is reported at its line; NewCalendar has the
// final word. msg is empty when the range is good.
func parseRange(s string) (from, to int, msg string) {
	const want = "is not an opening range such as 09:00-17:00"
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, want
	}
	from, okA := clockMinutes(strings.TrimSpace(a))
	to, okB := clockMinutes(strings.TrimSpace(b))
	if !okA || !okB || from == 24*60 {
		return 0, 0, want
	}
	if to <= from {
		return 0, 0, "must end after it starts"
	}
	return from, to, ""
}

// clockMinutes parses "HH:MM" (00:00 to 24:00) into minutes after midnight.
func clockMinutes(s string) (int, bool) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 || !isInteger(h) || !isInteger(m) || h[0] == '+' || h[0] == '-' || m[0] == '+' || m[0] == '-' {
		return 0, false
	}
	hh, _ := strconv.Atoi(h)
	mm, _ := strconv.Atoi(m)
	if hh > 24 || mm > 59 || (hh == 24 && mm != 0) {
		return 0, false
	}
	return hh*60 + mm, true
}
