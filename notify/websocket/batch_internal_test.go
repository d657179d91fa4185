package websocket

import (
	"bytes"
	"errors"
	"net"
	"testing"
)

// recordingConn keeps each write separately.
type recordingConn struct {
	net.Conn
	writes [][]byte
	err    error
}

func (c *recordingConn) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	c.writes = append(c.writes, bytes.Clone(p))
	return len(p), nil
}

func TestBatchConnHoldsUntilRelease(t *testing.T) {
	rc := &recordingConn{}
	b := newBatchConn(rc)

	// Not held: each write goes straight through.
	for _, s := range []string{"a", "b"} {
		if n, err := b.Write([]byte(s)); n != 1 || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if len(rc.writes) != 2 {
		t.Fatalf("%d writes before holding, want 2", len(rc.writes))
	}

	// Held: kept until the release, then one write.
	b.hold()
	for _, s := range []string{"c", "d", "e"} {
		if n, err := b.Write([]byte(s)); n != 1 || err != nil {
			t.Fatalf("held Write(%q) = %d, %v", s, n, err)
		}
	}
	if len(rc.writes) != 2 {
		t.Fatalf("%d writes while held, want still 2", len(rc.writes))
	}
	if err := b.release(); err != nil {
		t.Fatal(err)
	}
	if len(rc.writes) != 3 || string(rc.writes[2]) != "cde" {
		t.Fatalf("writes after release %q, want a third of %q", rc.writes, "cde")
	}
	if err := b.release(); err != nil || len(rc.writes) != 3 {
		t.Fatalf("an empty release wrote: %q, %v", rc.writes, err)
	}

	// Past the limit, what was held goes out first, in order; a write
	// larger than the limit goes out on its own.
	rc.writes = nil
	b.hold()
	small := bytes.Repeat([]byte{'s'}, batchLimit-10)
	large := bytes.Repeat([]byte{'L'}, batchLimit+1)
	tail := []byte("tail")
	for _, p := range [][]byte{small, []byte("0123456789x"), large, tail} {
		if _, err := b.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.release(); err != nil {
		t.Fatal(err)
	}
	want := [][]byte{small, []byte("0123456789x"), large, tail}
	if len(rc.writes) != len(want) {
		t.Fatalf("%d writes, want %d", len(rc.writes), len(want))
	}
	for i := range want {
		if !bytes.Equal(rc.writes[i], want[i]) {
			t.Fatalf("write %d is %d bytes %q..., want %d bytes %q...", i, len(rc.writes[i]), rc.writes[i][:1], len(want[i]), want[i][:1])
		}
	}
}

func TestBatchConnReportsHeldWriteFailure(t *testing.T) {
	broken := errors.New("connection reset")
	rc := &recordingConn{}
	b := newBatchConn(rc)
	b.hold()
	if _, err := b.Write([]byte("kept")); err != nil {
		t.Fatalf("held write failed before the release: %v", err)
	}
	rc.err = broken
	if err := b.release(); !errors.Is(err, broken) {
		t.Fatalf("release = %v, want %v", err, broken)
	}
	// Every later write fails too: the stream lost a frame.
	rc.err = nil
	if _, err := b.Write([]byte("later")); !errors.Is(err, broken) {
		t.Fatalf("write after a failure = %v, want %v", err, broken)
	}
	if len(rc.writes) != 0 {
		t.Fatalf("wrote %q after a lost frame", rc.writes)
	}
}
