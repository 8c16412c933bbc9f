package httpapi

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"time"

	"github.com/medialuna/medialuna/domain"
)

// Sessions keeps the dashboard's signed-in sessions, shared by every
// replica (postgres.Sessions). Only the SHA-256 of a session's secret is
// stored; the secret is in the person's cookie alone.
type Sessions interface {
	// Create stores a session that ends after idle without use.
	Create(ctx context.Context, idHash string, userID, accountID int64, idle time.Duration) error
	// Lookup returns the session's user and account and extends it.
	// Errors: ErrNotFound for an unknown or expired session.
	Lookup(ctx context.Context, idHash string, idle time.Duration) (userID, accountID int64, err error)
	Delete(ctx context.Context, idHash string) error
	// DeleteUser ends every session of the user except keep.
	DeleteUser(ctx context.Context, userID int64, keep string) error
}

const (
	sessionCookie = "medialuna_session"
	// preSessionCookie carries the CSRF secret of forms shown before
	// sign-in (log in, sign up, accept an invitation).
	preSessionCookie = "medialuna_pre"
	flashCookie      = "medialuna_flash"
	// sessionIdle is how long a session lasts without being used.
	sessionIdle = 7 * 24 * time.Hour
	csrfField   = "csrf"
	csrfHeader  = "X-CSRF-Token"
)

func derivedKey(secret []byte, label string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	return m.Sum(nil)
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func randomSecret() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (s *Server) cookie(r *http.Request, name, value string, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.deps.SecureCookies || r.TLS != nil}
	if maxAge < 0 {
		c.MaxAge = -1
	} else if maxAge > 0 {
		c.MaxAge = int(maxAge.Seconds())
	}
	return c
}

// uiViewer resolves the session cookie; no cookie, or an ended session, is
// ErrUnauthorized with a nil viewer.
func (s *Server) uiViewer(r *http.Request) (*viewer, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil, domain.Errorf(domain.ErrUnauthorized, "not signed in")
	}
	hash := hashSecret(c.Value)
	userID, accountID, err := s.deps.Sessions.Lookup(r.Context(), hash, sessionIdle)
	if err != nil {
		if domain.ErrorCode(err) == domain.ErrNotFound {
			return nil, domain.Errorf(domain.ErrUnauthorized, "not signed in")
		}
		return nil, err
	}
	u, err := s.deps.Queries.User(r.Context(), accountID, userID)
	if err != nil {
		if domain.ErrorCode(err) == domain.ErrNotFound {
			return nil, domain.Errorf(domain.ErrUnauthorized, "not signed in")
		}
		return nil, err
	}
	if u.Role == "" {
		// Removed from the account: the session ends with the membership.
		return nil, domain.Errorf(domain.ErrUnauthorized, "not signed in")
	}
	acc, err := s.deps.Queries.Account(r.Context(), accountID)
	if err != nil {
		return nil, err
	}
	return &viewer{principal: principal{UserID: u.ID, AccountID: accountID, Role: domain.Role(u.Role), Plan: domain.Plan(acc.Plan)},
		Email: u.Email, FullName: u.FullName, AccountName: acc.Name, sessionHash: hash}, nil
}

// startSession signs the user in: a fresh secret in the cookie (never a
// secret the browser already had, so a planted cookie cannot be promoted).
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, userID, accountID int64) error {
	secret := randomSecret()
	if err := s.deps.Sessions.Create(r.Context(), hashSecret(secret), userID, accountID, sessionIdle); err != nil {
		return err
	}
	http.SetCookie(w, s.cookie(r, sessionCookie, secret, sessionIdle))
	http.SetCookie(w, s.cookie(r, preSessionCookie, "", -1))
	return nil
}

func (s *Server) endSession(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if v != nil {
		if err := s.deps.Sessions.Delete(r.Context(), v.sessionHash); err != nil {
			return err
		}
	}
	http.SetCookie(w, s.cookie(r, sessionCookie, "", -1))
	return nil
}

// csrfToken is the token forms and htmx requests send back: an HMAC of the
// session's secret (or, before sign-in, of a random pre-session cookie),
// so it cannot be computed by a page that cannot read our cookies, and
// needs no storage.
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request, v *viewer) string {
	if v != nil {
		return s.csrfFor("session:" + v.sessionHash)
	}
	c, err := r.Cookie(preSessionCookie)
	secret := ""
	if err == nil && len(c.Value) >= 32 && len(c.Value) <= 100 {
		secret = c.Value
	} else {
		secret = randomSecret()
		http.SetCookie(w, s.cookie(r, preSessionCookie, secret, 24*time.Hour))
		// The same request may render twice (an error page after a
		// form); keep what was just set.
		r.AddCookie(&http.Cookie{Name: preSessionCookie, Value: secret})
	}
	return s.csrfFor("pre:" + hashSecret(secret))
}

func (s *Server) csrfFor(subject string) string {
	m := hmac.New(sha256.New, s.ui.csrfKey)
	m.Write([]byte(subject))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF refuses a state-changing request whose token does not match
// the session's, or that another site's page sent (Sec-Fetch-Site or
// Origin, as http.CrossOriginProtection checks).
func (s *Server) checkCSRF(r *http.Request, v *viewer) error {
	forbidden := &requestError{status: http.StatusForbidden, detail: "this form has expired or did not come from this site; reload the page and try again"}
	if err := http.NewCrossOriginProtection().Check(r); err != nil {
		return forbidden
	}
	got := r.Header.Get(csrfHeader)
	if got == "" {
		if err := r.ParseForm(); err != nil {
			return &requestError{status: http.StatusBadRequest, detail: "the form could not be read: " + err.Error()}
		}
		got = r.PostFormValue(csrfField)
	}
	var want string
	if v != nil {
		want = s.csrfFor("session:" + v.sessionHash)
	} else {
		c, err := r.Cookie(preSessionCookie)
		if err != nil || c.Value == "" {
			return forbidden
		}
		want = s.csrfFor("pre:" + hashSecret(c.Value))
	}
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return forbidden
	}
	return nil
}

// setFlash leaves a one-line message for the next page. It holds no
// secret ("Monitor created."), so it is not Secure-only: it reads the same
// behind a proxy that terminates TLS.
func setFlash(w http.ResponseWriter, msg string) {
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: url.QueryEscape(msg), Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: 60})
}

func takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(flashCookie)
	if err != nil || c.Value == "" {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1})
	msg, err := url.QueryUnescape(c.Value)
	if err != nil {
		return ""
	}
	if problem, _ := domain.CheckText(msg, domain.SingleLine); problem != "" || len(msg) > 300 {
		return ""
	}
	return msg
}

// sealForSession encrypts text for one session and one purpose (AES-GCM,
// the session and what as additional data), for a cookie that carries a
// secret to the one page that shows it (a new API key, a webhook's signing
// secret): another session, or another page, cannot open it.
func (s *Server) sealForSession(v *viewer, what, text string) (string, error) {
	aead, err := s.onceAEAD()
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte(text), []byte(what+"|"+v.sessionHash))), nil
}

// openForSession opens what sealForSession sealed for this session and
// purpose; false for anything else.
func (s *Server) openForSession(v *viewer, what, sealed string) (string, bool) {
	aead, err := s.onceAEAD()
	if err != nil {
		return "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(raw) < aead.NonceSize() {
		return "", false
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(what+"|"+v.sessionHash))
	return string(plain), err == nil
}

func (s *Server) onceAEAD() (cipher.AEAD, error) {
	block, err := aes.NewCipher(derivedKey(s.deps.JWTSecret, "dashboard once"))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
