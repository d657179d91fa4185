package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog/ui"
)

const token = "s3cret-token-value"

// sessionCookie returns the session cookie an answer sets, or nil.
func sessionCookie(p page) *http.Cookie {
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if c.Name == ui.SessionCookie {
			return c
		}
	}
	return nil
}

// signIn logs in through the form and returns the login's answer.
func signIn(t *testing.T, e *env, c *http.Client, tok string, hdr ...string) page {
	t.Helper()
	form := get(t, c, e.srv.URL+"/ui/login?next=/ui/feed")
	if form.code != http.StatusOK {
		t.Fatalf("login form: %d", form.code)
	}
	return post(t, c, e.srv.URL+"/ui/login", url.Values{"csrf_token": {csrf(t, form)}, "token": {tok}, "next": {"/ui/feed"}}, hdr...)
}

// With a token set, the pages need a session; the login sets one that is
// an HMAC, not the token, with the attributes the browser needs to keep it
// to this site, for 12 hours of the server's clock.
func TestSessionLogin(t *testing.T) {
	t.Parallel()
	e := setup(t, &ui.Config{APIToken: token})
	c := client(t)
	p := get(t, c, e.srv.URL+"/ui/policy?x=1")
	if p.code != http.StatusSeeOther || p.header.Get("Location") != "/ui/login?next=%2Fui%2Fpolicy%3Fx%3D1" {
		t.Fatalf("without a session: %d to %q", p.code, p.header.Get("Location"))
	}
	if p := get(t, c, e.srv.URL+"/ui/assets/app.css"); p.code != http.StatusOK {
		t.Errorf("assets need a session: %d", p.code)
	}
	wrong := signIn(t, e, c, "guess")
	if wrong.code != http.StatusUnauthorized || !strings.Contains(wrong.body, "is not this server") || sessionCookie(wrong) != nil {
		t.Fatalf("wrong token: %d, cookie %v", wrong.code, sessionCookie(wrong))
	}
	ok := signIn(t, e, c, token)
	if ok.code != http.StatusSeeOther || ok.header.Get("Location") != "/ui/feed" {
		t.Fatalf("right token: %d to %q", ok.code, ok.header.Get("Location"))
	}
	sc := sessionCookie(ok)
	if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode || sc.Secure || sc.Path != "/" || strings.Contains(sc.Value, token) {
		t.Fatalf("session cookie %+v", sc)
	}
	if sc.MaxAge != 12*60*60 || !sc.Expires.IsZero() {
		t.Errorf("session cookie Max-Age %d, Expires %s; want 12 h by Max-Age, so that the browser's clock cannot cut it short", sc.MaxAge, sc.Expires)
	}
	if p := get(t, c, e.srv.URL+"/ui/policy"); p.code != http.StatusOK {
		t.Errorf("with the session: %d", p.code)
	}
	req := cookieRequest(t, e.srv.URL+"/alerts", sc)
	if !e.h.Authorized(req) {
		t.Error("Authorized refuses the session cookie")
	}
	e.clock.Advance(12*time.Hour - time.Second)
	if !e.h.Authorized(req) {
		t.Error("the session ended early")
	}
	e.clock.Advance(time.Second)
	if e.h.Authorized(req) {
		t.Error("the session outlived 12 hours")
	}
	if p := get(t, c, e.srv.URL+"/ui/policy"); p.code != http.StatusSeeOther {
		t.Errorf("after 12h: %d, want the login", p.code)
	}
}

// A cookie made with another token, or with its expiry changed, is no
// session; behind a TLS proxy the cookies are Secure.
func TestSessionCookieForgeries(t *testing.T) {
	t.Parallel()
	e := setup(t, &ui.Config{APIToken: token})
	other := setup(t, &ui.Config{APIToken: "another-token"})
	p := signIn(t, other, client(t), "another-token", "X-Forwarded-Proto", "https")
	foreign := sessionCookie(p)
	if foreign == nil || !foreign.Secure {
		t.Fatalf("behind https the session cookie %+v is not Secure", foreign)
	}
	if e.h.Authorized(cookieRequest(t, e.srv.URL+"/ui/", foreign)) {
		t.Error("a session of another token is accepted")
	}
	own := sessionCookie(signIn(t, e, client(t), token))
	exp, mac, _ := strings.Cut(own.Value, ".")
	for _, v := range []string{
		"9999999999." + mac,
		exp + "." + mac[:len(mac)-2] + "AA",
		exp,
		"",
		token,
		exp + ".",
	} {
		if e.h.Authorized(cookieRequest(t, e.srv.URL+"/ui/", &http.Cookie{Name: ui.SessionCookie, Value: v})) {
			t.Errorf("cookie value %q is accepted", v)
		}
	}
}

// Without a token the pages are open, and still every form needs its
// CSRF token, from this site.
func TestCSRF(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	c := client(t)
	// An open UI has no form yet (sign-out needs a token, acknowledging
	// the notification policy); the token is the cookie every page sets.
	form := get(t, c, e.srv.URL+"/ui/")
	var cc *http.Cookie
	for _, k := range (&http.Response{Header: form.header}).Cookies() {
		if k.Name == ui.CSRFCookie {
			cc = k
		}
	}
	if cc == nil || !cc.HttpOnly || cc.SameSite != http.SameSiteStrictMode || cc.Path != "/ui/" {
		t.Fatalf("CSRF cookie %+v", cc)
	}
	tok := cc.Value
	if p := post(t, c, e.srv.URL+"/ui/logout", url.Values{}); p.code != http.StatusForbidden {
		t.Errorf("no CSRF token: %d", p.code)
	}
	if p := post(t, c, e.srv.URL+"/ui/logout", url.Values{"csrf_token": {"x" + tok[1:]}}); p.code != http.StatusForbidden {
		t.Errorf("a wrong CSRF token: %d", p.code)
	}
	if p := post(t, client(t), e.srv.URL+"/ui/logout", url.Values{"csrf_token": {tok}}); p.code != http.StatusForbidden {
		t.Errorf("a CSRF token without its cookie: %d", p.code)
	}
	if p := post(t, c, e.srv.URL+"/ui/logout", url.Values{"csrf_token": {tok}}, "Sec-Fetch-Site", "cross-site"); p.code != http.StatusForbidden {
		t.Errorf("from another site: %d", p.code)
	}
	if p := post(t, c, e.srv.URL+"/ui/logout", url.Values{"csrf_token": {tok}}, "Origin", "http://evil.example"); p.code != http.StatusForbidden {
		t.Errorf("from another origin: %d", p.code)
	}
	if p := post(t, c, e.srv.URL+"/ui/logout", url.Values{"csrf_token": {tok}}, "Origin", e.srv.URL, "Sec-Fetch-Site", "same-origin"); p.code != http.StatusSeeOther {
		t.Errorf("a good form: %d", p.code)
	}
}

// After the login, only pages of ours: never another site.
func TestLoginRedirectsOnlyHome(t *testing.T) {
	t.Parallel()
	e := setup(t, &ui.Config{APIToken: token})
	for next, want := range map[string]string{
		"/ui/feed":              "/ui/feed",
		"/ui/?tier=gold&page=2": "/ui/?tier=gold&page=2",
		"//evil.example/ui/":    "/ui/",
		"https://evil.example":  "/ui/",
		"/ui/../../x":           "/ui/",
		"/api":                  "/ui/",
		"/ui/login":             "/ui/",
		"/\\evil.example":       "/ui/",
	} {
		c := client(t)
		form := get(t, c, e.srv.URL+"/ui/login")
		p := post(t, c, e.srv.URL+"/ui/login", url.Values{"csrf_token": {csrf(t, form)}, "token": {token}, "next": {next}})
		if p.header.Get("Location") != want {
			t.Errorf("next %q: sent to %q, want %q", next, p.header.Get("Location"), want)
		}
	}
}

// A host the server is not configured for gets 421 on every page.
func TestHostRefused(t *testing.T) {
	t.Parallel()
	e := setup(t, &ui.Config{AllowHost: func(h string) bool { return h == "127.0.0.1" }})
	if p := get(t, client(t), e.srv.URL+"/ui/"); p.code != http.StatusOK {
		t.Errorf("own host: %d", p.code)
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/ui/", nil)
	req.Host = "rebound.example:8000"
	if p := do(t, client(t), req); p.code != http.StatusMisdirectedRequest {
		t.Errorf("another host: %d", p.code)
	}
}

func cookieRequest(t *testing.T, u string, c *http.Cookie) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(c)
	return req
}
