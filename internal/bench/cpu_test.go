package bench

import (
	"os"
	"runtime"
	"testing"
	"time"
)

func TestMachineBusyCountsBusyFieldsOnly(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice
	stat := "cpu  1000 20 300 90000 500 6 70 8 400 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n"
	got, ok := machineBusy(stat)
	if want := (1000 + 20 + 300 + 6 + 70 + 8) * 10 * time.Millisecond; !ok || got != want {
		t.Errorf("machineBusy = %v, %v; want %v, true", got, ok, want)
	}
	for _, bad := range []string{"", "cpu0 1 2 3 4 5 6 7 8\n", "cpu 1 2 3\n", "cpu 1 2 x 4 5 6 7 8\n"} {
		if d, ok := machineBusy(bad); ok {
			t.Errorf("machineBusy(%q) = %v, true; want false", bad, d)
		}
	}
}

func TestSpanCPUSplitsPerThousandUnits(t *testing.T) {
	a := cpuMark{server: time.Second, harness: 2 * time.Second, machine: 10 * time.Second, ok: true}
	b := cpuMark{server: 3 * time.Second, harness: 2500 * time.Millisecond, machine: 14 * time.Second, ok: true}
	c := spanCPU(a, b, 4*time.Second, 20000)
	if c == nil {
		t.Fatal("spanCPU = nil")
	}
	// 2s, 0.5s and the other 1.5s of the machine's 4s, over 20 thousand.
	if c.ServerMs != 100 || c.HarnessMs != 25 || c.OtherMs != 75 || c.SpanS != 4 {
		t.Errorf("spanCPU = %+v", *c)
	}
	if want := round2(4.0 / (4 * float64(runtime.NumCPU()))); c.BusyShare != want {
		t.Errorf("BusyShare = %v, want %v", c.BusyShare, want)
	}
	if spanCPU(a, cpuMark{}, time.Second, 1) != nil || spanCPU(a, b, time.Second, 0) != nil {
		t.Error("spanCPU without a readable mark or units is not nil")
	}
}

func TestMarkCPUReadsThisMachine(t *testing.T) {
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no /proc/stat here")
	}
	a := markCPU(os.Getpid())
	for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
	}
	b := markCPU(os.Getpid())
	if !a.ok || !b.ok {
		t.Fatalf("markCPU not ok: %+v %+v", a, b)
	}
	if b.machine < a.machine || b.server < a.server || b.harness <= a.harness {
		t.Errorf("CPU went backwards or did not move: %+v then %+v", a, b)
	}
	if markCPU(0).ok {
		t.Error("markCPU(0).ok")
	}
}

func TestSetDueSharesTheSpanFromTheFirstDueInstant(t *testing.T) {
	a := cpuMark{machine: 10 * time.Second, ok: true}
	due := cpuMark{machine: 10500 * time.Millisecond, ok: true}
	b := cpuMark{machine: 14500 * time.Millisecond, ok: true}
	c := spanCPU(a, b, 4*time.Second, 1000)
	c.setDue(due, b, 2*time.Second)
	// 4s of the machine's busy time over the 2s since the due mark.
	if want := round2(4.0 / (2 * float64(runtime.NumCPU()))); c.DueBusyShare != want || c.DueSpanS != 2 {
		t.Errorf("after setDue: %+v, want DueBusyShare %v and DueSpanS 2", *c, want)
	}
	if want := round2(4.5 / (4 * float64(runtime.NumCPU()))); c.BusyShare != want {
		t.Errorf("BusyShare = %v, want %v (unchanged)", c.BusyShare, want)
	}
	unread := spanCPU(a, b, 4*time.Second, 1000)
	unread.setDue(cpuMark{}, b, 2*time.Second)
	if unread.DueSpanS != 0 || unread.DueBusyShare != 0 {
		t.Errorf("setDue with an unread mark set %+v", *unread)
	}
	var none *SpanCPU
	none.setDue(due, b, time.Second) // no span: nothing to set, no panic
}
