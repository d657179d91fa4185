package webhook_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/ticket-watchdog/watchdog/notify/webhook"
)

// A receiver checks the signature before it trusts a request: the HMAC-SHA256
// of the raw body with the shared secret, hex-encoded after "sha256=". It
// then de-duplicates the alerts by delivery_id.
func ExampleVerify() {
	const secret = "the secret of the webhook receiver"
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil || !webhook.Verify(body, r.Header.Get(webhook.SignatureHeader), secret) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	srv := httptest.NewServer(handler)
	defer srv.Close()

	body := `{"alerts":[{"delivery_id":1,"ticket_id":"42"}]}`
	for _, sig := range []string{webhook.Sign([]byte(body), secret), "sha256=00"} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		req.Header.Set(webhook.SignatureHeader, sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode)
	}
	// Output:
	// 204
	// 401
}
