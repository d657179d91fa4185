package bench

import (
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
