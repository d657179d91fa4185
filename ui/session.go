package ui

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// Cookie names.
const (
	// SessionCookie holds a login: an expiry and an HMAC-SHA256 of it
	// keyed by the API token, never the token itself. Changing the token
	// ends every session.
	SessionCookie = "watchdog_session"
	// CSRFCookie holds the random token every state-changing form repeats
	// (the double-submit pattern), so that another site's page cannot
	// post a form here in a user's name.
	CSRFCookie = "watchdog_csrf"
	csrfField  = "csrf_token"
)

// sessionKeys signs and checks session cookies.
type sessionKeys struct {
	token []byte
}

func newSessionKeys(token string) sessionKeys { return sessionKeys{token: []byte(token)} }

// sign returns the cookie value of a session that ends at exp.
func (k sessionKeys) sign(exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	return e + "." + base64.RawURLEncoding.EncodeToString(k.mac(e))
}

func (k sessionKeys) mac(exp string) []byte {
	m := hmac.New(sha256.New, k.token)
	m.Write([]byte("watchdog ui session\x00" + exp))
	return m.Sum(nil)
}

// valid reports whether a cookie value is a session of this token that
// has not ended at now.
func (k sessionKeys) valid(v string, now time.Time) bool {
	e, sig, ok := strings.Cut(v, ".")
	if !ok {
		return false
	}
	exp, err := strconv.ParseInt(e, 10, 64)
	if err != nil || now.Unix() >= exp {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	return err == nil && hmac.Equal(got, k.mac(e))
}

// Authorized reports whether r may read the pages: always without a
// token, else with a session cookie that has not expired. Give it to
// api.Config.SessionAuth so that the pages' scripts may read the API's
// GET routes and open /ws/alerts with the cookie.
func (h *Handler) Authorized(r *http.Request) bool {
	if h.cfg.APIToken == "" {
		return true
	}
	c, err := r.Cookie(SessionCookie)
	return err == nil && h.keys.valid(c.Value, h.cfg.Clock.Now())
}

// secure reports whether the browser reached us over TLS, directly or
// through a proxy that says so; cookies are then marked Secure.
func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// csrfToken returns the request's CSRF token, setting a new cookie when it
// has none.
func (h *Handler) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(CSRFCookie); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	v := base64.RawURLEncoding.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: v, Path: "/ui/", HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteStrictMode})
	// A page rendered in the same answer must use the new value.
	r.AddCookie(&http.Cookie{Name: CSRFCookie, Value: v})
	return v
}

// checkForm parses a posted form and checks its CSRF token against the
// cookie, and that the request does not come from another site. It
// answers 403 itself and returns false when the check fails.
func (h *Handler) checkForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, http.StatusBadRequest, "The form could not be read.")
		return false
	}
	c, err := r.Cookie(CSRFCookie)
	sent := r.PostForm.Get(csrfField)
	ok := err == nil && sent != "" && subtle.ConstantTimeCompare([]byte(sent), []byte(c.Value)) == 1
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" {
		ok = false
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		if u, err := url.Parse(o); err != nil || !strings.EqualFold(u.Host, r.Host) {
			ok = false
		}
	}
	if !ok {
		h.fail(w, r, http.StatusForbidden, "The form's security token is missing or stale: reload the page and try again.")
	}
	return ok
}

// loginPage is the login form's content.
type loginPage struct {
	Next  string
	Error string
}

func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request) {
	if h.cfg.APIToken == "" || h.Authorized(r) {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "login", layout{Title: "Sign in", Page: loginPage{Next: safeNext(r.URL.Query().Get("next"))}})
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	if !h.checkForm(w, r) {
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	if h.cfg.APIToken == "" {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	token := strings.TrimSpace(r.PostForm.Get("token"))
	if subtle.ConstantTimeCompare([]byte(token), []byte(h.cfg.APIToken)) != 1 {
		h.log.Warn("ui: sign-in with a wrong token", "remote", r.RemoteAddr)
		h.render(w, r, http.StatusUnauthorized, "login", layout{Title: "Sign in",
			Page: loginPage{Next: next, Error: "That is not this server's API token."}})
		return
	}
	exp := h.cfg.Clock.Now().Add(h.cfg.SessionTTL)
	// Max-Age, not Expires: the browser counts the lifetime on its own
	// clock, however far it is from the server's; the signed expiry is what
	// the server checks.
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: h.keys.sign(exp), Path: "/", MaxAge: int(h.cfg.SessionTTL / time.Second),
		HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if !h.checkForm(w, r) {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}

// safeNext is where to go after signing in: a page of ours, never another
// site (an open redirect).
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/ui/"
	}
	// http.Redirect cleans the path, so judge the clean one.
	clean := path.Clean(u.Path)
	if strings.HasSuffix(u.Path, "/") && clean != "/" {
		clean += "/"
	}
	u.Path = clean
	if !strings.HasPrefix(u.Path, "/ui/") || strings.HasPrefix(u.Path, "/ui/login") {
		return "/ui/"
	}
	return u.RequestURI()
}
