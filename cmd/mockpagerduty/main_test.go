package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServesAndPrintsEvents(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-routing-key", "k"}, &out, &out, ready) }()
	addr := <-ready
	resp, err := http.Post("http://"+addr+"/v2/enqueue", "application/json",
		strings.NewReader(`{"routing_key":"k","event_action":"resolve","dedup_key":"1:response:0"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("status %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.Contains(s, `"dedup_key":"1:response:0"`) || !strings.Contains(s, `"routing_key_ok":true`) || strings.Contains(s, `"k"`) {
		t.Errorf("printed %q", s)
	}
}
