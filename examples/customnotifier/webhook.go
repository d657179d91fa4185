package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/notify"
)

// JSONWebhook is a watchdog.Notifier that posts each alert as JSON to URL.
// Its errors never quote URL: a webhook URL often carries a secret.
type JSONWebhook struct{ URL string }

// Deliver makes one POST, within the engine's DeliveryTimeout (ctx). 2xx is
// delivered; 429, 5xx and network errors are retryable, after the server's
// Retry-After if it sent one; any other status is permanent.
func (h *JSONWebhook) Deliver(ctx context.Context, a watchdog.Alert) (retry bool, err error) {
	body, err := json.Marshal(a)
	if err != nil {
		return false, fmt.Errorf("json webhook: encoding alert: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("json webhook: %w", hideURL(err))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return true, fmt.Errorf("json webhook: %w", hideURL(err))
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // so the connection is reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return false, nil
	}
	err = fmt.Errorf("json webhook: HTTP %d", resp.StatusCode)
	retry = notify.HTTPStatusRetryable(resp.StatusCode)
	if d, ok := notify.RetryAfter(resp.Header, time.Now()); ok && retry {
		return true, &watchdog.RetryAfterError{After: d, Err: err}
	}
	return retry, err
}

// hideURL keeps the operation and cause of a *url.Error, not its URL.
func hideURL(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
