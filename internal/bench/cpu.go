package bench

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ProcessCPU returns the CPU time (user and system) this process has used
// so far, or 0 where it cannot be read. CPU time, unlike wall time, hardly
// depends on what else the machine runs, so Go benchmarks compared across
// commits on a shared machine report it beside their wall-clock figures.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// CPUMeter sums this process's CPU time between Start and Stop calls (the
// brackets EngineIngest and EngineBurst take) and reports it per op.
type CPUMeter struct {
	t0, sum time.Duration
}

// Start starts a measured span.
func (m *CPUMeter) Start() { m.t0 = ProcessCPU() }

// Stop ends a measured span.
func (m *CPUMeter) Stop() { m.sum += ProcessCPU() - m.t0 }

// Report reports the CPU time per op of b as unit (e.g. "go-cpu-ms/op").
func (m *CPUMeter) Report(b *testing.B, unit string) {
	b.ReportMetric(float64(m.sum.Microseconds())/1000/float64(b.N), unit)
}

// MachineCPU returns the CPU time every processor of the machine has spent
// busy so far (user, nice, system, irq, softirq and steal, from the first
// line of /proc/stat); ok is false where /proc/stat cannot be read.
func MachineCPU() (busy time.Duration, ok bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	return machineBusy(string(data))
}

// machineBusy parses the aggregate "cpu" line of /proc/stat's text s.
func machineBusy(s string) (time.Duration, bool) {
	line, _, _ := strings.Cut(s, "\n")
	f := strings.Fields(line)
	// cpu user nice system idle iowait irq softirq steal [guest guest_nice]:
	// guest time is counted in user already.
	if len(f) < 9 || f[0] != "cpu" {
		return 0, false
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return 0, false
		}
		ticks += v
	}
	// In clock ticks of 1/100 s, as ProcCPU's.
	return time.Duration(ticks) * 10 * time.Millisecond, true
}

// cpuMark is the CPU time used so far by the server, this process and the
// whole machine: two marks bracket a span whose CPU a run reports.
type cpuMark struct {
	server, harness, machine time.Duration
	ok                       bool
}

// markCPU reads a cpuMark for server pid; ok is false when pid is not a
// local process or /proc cannot be read.
func markCPU(pid int) cpuMark {
	s, ok1 := ProcCPU(pid)
	m, ok2 := MachineCPU()
	return cpuMark{server: s, harness: ProcessCPU(), machine: m, ok: ok1 && ok2}
}

// SpanCPU is the CPU time the machine spent over a span of a run, split by
// who spent it, per 1,000 of the span's units of work (stages recorded and
// delivered, say). CPU time counts work where wall time counts waiting, so
// it tells a cheaper server from a faster machine.
type SpanCPU struct {
	// SpanS is the span's wall time.
	SpanS float64 `json:"span_s"`
	// ServerMs is the watchdogd process's CPU per 1,000 units.
	ServerMs float64 `json:"server_ms_per_1000"`
	// HarnessMs is this process's (the Slack stand-in, the WebSocket
	// client and whatever else the harness runs) per 1,000 units.
	HarnessMs float64 `json:"harness_ms_per_1000"`
	// OtherMs is every other process's per 1,000 units: on a machine
	// running nothing else, the database server's (zero for SQLite, which
	// runs inside watchdogd).
	OtherMs float64 `json:"other_ms_per_1000"`
	// BusyShare is the machine's busy CPU time over the span as a share of
	// all its processors' time: near 1, the machine was the limit.
	BusyShare float64 `json:"busy_share"`
	// DueSpanS and DueBusyShare are the span's part from its first due
	// instant on (lateness only) and BusyShare over it. A lateness span
	// opens with the wait for the first stage, an idle second or two that
	// pulls BusyShare towards a half; from the first due instant on it
	// tells a burst bound by the machine's CPU (near 1) from one whose
	// work waited on something else.
	DueSpanS     float64 `json:"due_span_s,omitempty"`
	DueBusyShare float64 `json:"due_busy_share,omitempty"`
}

// spanCPU is the CPU between marks a and b per 1,000 of units, over wall
// time wall; nil when either mark could not be read or units is 0.
func spanCPU(a, b cpuMark, wall time.Duration, units int) *SpanCPU {
	if !a.ok || !b.ok || units <= 0 || wall <= 0 {
		return nil
	}
	per := func(d time.Duration) float64 { return round2(float64(d.Microseconds()) / 1000 / float64(units) * 1000) }
	server, harness, machine := b.server-a.server, b.harness-a.harness, b.machine-a.machine
	other := max(machine-server-harness, 0)
	return &SpanCPU{
		SpanS:     round2(wall.Seconds()),
		ServerMs:  per(server),
		HarnessMs: per(harness),
		OtherMs:   per(other),
		BusyShare: busyShare(machine, wall),
	}
}

// busyShare is busy CPU time over wall as a share of all processors' time.
func busyShare(busy, wall time.Duration) float64 {
	return round2(busy.Seconds() / (wall.Seconds() * float64(runtime.NumCPU())))
}

// setDue sets the span's part from mark due, taken at its first due
// instant, to its end b after wall; it leaves them unset when due could
// not be read.
func (c *SpanCPU) setDue(due, b cpuMark, wall time.Duration) {
	if c == nil || !due.ok || !b.ok || wall <= 0 {
		return
	}
	c.DueSpanS = round2(wall.Seconds())
	c.DueBusyShare = busyShare(b.machine-due.machine, wall)
}
