package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog/internal/mockslack"
)

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseFlagsAndEnv(t *testing.T) {
	o, err := parse(nil, env(map[string]string{
		"MOCKSLACK_ADDR": ":9999", "MOCKSLACK_FAIL_FIRST": "3", "MOCKSLACK_STATUS": "429",
		"MOCKSLACK_RETRY_AFTER": "2", "MOCKSLACK_FAIL_RATE": "0.25",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.addr != ":9999" || o.failFirst != 3 || o.status != 429 || o.retryAfter != 2 || o.failRate != 0.25 {
		t.Errorf("from env: %+v", o)
	}
	o, err = parse([]string{"-addr", "127.0.0.1:1", "-status", "500", "-fail-rate", "0.5"}, env(map[string]string{"MOCKSLACK_STATUS": "429"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.addr != "127.0.0.1:1" || o.status != 500 || o.failRate != 0.5 {
		t.Errorf("flags must win over env: %+v", o)
	}
	o, err = parse(nil, env(nil), io.Discard)
	if err != nil || o.addr != ":8080" || o.status != 503 {
		t.Errorf("defaults: %+v, %v", o, err)
	}
	for _, tc := range []struct {
		args []string
		env  map[string]string
	}{
		{[]string{"-retry-after", "-1"}, nil},
		{[]string{"extra"}, nil},
		{[]string{"-bogus"}, nil},
		{nil, map[string]string{"MOCKSLACK_FAIL_FIRST": "x"}},
		{nil, map[string]string{"MOCKSLACK_FAIL_RATE": "lots"}},
		{nil, map[string]string{"MOCKSLACK_STATUS": "4o4"}},
	} {
		if _, err := parse(tc.args, env(tc.env), io.Discard); err == nil {
			t.Errorf("parse(%q, %v) accepted bad input", tc.args, tc.env)
		}
	}
	if _, err := parse([]string{"-h"}, env(nil), io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}

func TestRunServesRecordsAndHealthchecks(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"-addr", "127.0.0.1:0", "-fail-first", "1", "-status", "429", "-retry-after", "4"}, env(nil), stdout, stderr, func(a string) { addrc <- a })
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-errc:
		t.Fatalf("run: %v", err)
	}
	base := "http://" + addr

	if err := run(t.Context(), []string{"-healthcheck", "-addr", addr}, env(nil), io.Discard, io.Discard, nil); err != nil {
		t.Errorf("healthcheck against a live server: %v", err)
	}

	post := func() *http.Response {
		resp, err := http.Post(base+mockslack.WebhookPath, "application/json", strings.NewReader(`{"text":"ticket 9 breached"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post(); resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "4" {
		t.Errorf("first post: %d Retry-After=%q, want 429 and 4", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp := post(); resp.StatusCode != http.StatusOK {
		t.Errorf("second post: %d", resp.StatusCode)
	}
	resp, err := http.Get(base + "/messages")
	if err != nil {
		t.Fatal(err)
	}
	var msgs []mockslack.Message
	err = json.NewDecoder(resp.Body).Decode(&msgs)
	resp.Body.Close()
	if err != nil || len(msgs) != 1 || msgs[0].Text != "ticket 9 breached" {
		t.Errorf("GET /messages = %+v, %v", msgs, err)
	}
	if !strings.Contains(stdout.String(), `"text":"ticket 9 breached"`) || strings.Count(stdout.String(), "\n") != 1 {
		t.Errorf("stdout = %q, want one JSON line for the message", stdout.String())
	}
	if !strings.Contains(stderr.String(), "listening on "+addr) {
		t.Errorf("stderr = %q", stderr.String())
	}

	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("run after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop after cancel")
	}
	if err := run(t.Context(), []string{"-healthcheck", "-addr", addr}, env(nil), io.Discard, io.Discard, nil); err == nil {
		t.Error("healthcheck succeeded against a stopped server")
	}
}

func TestRunRejectsBadFaults(t *testing.T) {
	err := run(t.Context(), []string{"-addr", "127.0.0.1:0", "-status", "200"}, env(nil), io.Discard, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "Status 200") {
		t.Errorf("run with -status 200 = %v, want an error naming the status", err)
	}
}
