package httpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
)

// Sign-up, log-in, log-out and invitation pages. They check passwords and
// count attempts exactly as the API's endpoints do (checkPassword, the
// per-address and per-email limits), and create accounts and members with
// the same commands.

func (s *Server) uiAuthRoutes() {
	s.uiRoute("GET", "/login", "", s.uiLoginPage)
	s.uiRoute("POST", "/login", "", s.uiLogin)
	s.uiRoute("GET", "/login/2fa", "", s.uiLoginCodePage)
	s.uiRoute("POST", "/login/2fa", "", s.uiLoginCode)
	s.uiRoute("GET", "/signup", "", s.uiSignupPage)
	s.uiRoute("POST", "/signup", "", s.uiSignup)
	s.uiRoute("POST", "/logout", "", s.uiLogout)
	s.uiRoute("GET", "/invite", "", s.uiInvitePage)
	s.uiRoute("POST", "/invite", "", s.uiAcceptInvite)
}

type uiAuthForm struct {
	Email, FullName, AccountName, Token, Next string
	// SignupOpen says the login page may offer sign-up; SignupClosed, when
	// set, is why the sign-up page does not.
	SignupOpen   bool
	SignupClosed string
	// Closed, on the invitation page, is why its link no longer works.
	Closed string
}

// signupClosed says why nobody may sign up here now, or "" when someone
// may. The Signup command decides for itself on every sign-up; this only
// spares people a form that would be refused.
func (s *Server) signupClosed(r *http.Request) string {
	first := false
	if s.deps.SignupPolicy == domain.SignupInvite {
		any, err := s.deps.Queries.HasAccounts(r.Context())
		if err != nil {
			s.deps.Log.Warn("sign-up page: could not tell whether accounts exist", "err", err)
		}
		first = err == nil && !any
	}
	if err := s.deps.SignupPolicy.MaySignUp(first); err != nil {
		return domain.ErrorMessage(err)
	}
	return ""
}

// safeNext keeps a post-login redirect on this site: a path, never a
// scheme-relative or absolute URL.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}

func (s *Server) uiLoginPage(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if v != nil {
		return redirect(w, r, "/")
	}
	return s.render(w, r, http.StatusOK, "login", uiPage{Title: "Log in", Data: uiAuthForm{Next: safeNext(r.URL.Query().Get("next")),
		SignupOpen: s.signupClosed(r) == ""}})
}

// uiAllowAddress counts an unauthenticated form post against its client
// address, like the API's sign-up and login endpoints.
func (s *Server) uiAllowAddress(r *http.Request) error {
	count, reset, err := s.deps.RateLimiter.Take(r.Context(), s.addressKey(r))
	if err != nil {
		s.deps.Log.Warn("rate limiter unavailable", "err", err)
		return nil
	}
	if count > s.deps.AuthRequestsPerMinute {
		retry := max(int(reset.Sub(s.deps.Now()).Seconds()+0.999), 1)
		return &requestError{status: http.StatusTooManyRequests, detail: "too many attempts from your address; try again in " + strconv.Itoa(retry) + " s"}
	}
	return nil
}

func (s *Server) uiLogin(w http.ResponseWriter, r *http.Request, _ *viewer) error {
	form := uiAuthForm{Email: r.PostFormValue("email"), Next: safeNext(r.PostFormValue("next"))}
	fail := func(status int, msg string) error {
		return s.render(w, r, status, "login", uiPage{Title: "Log in", Errors: map[string]string{"": msg}, Data: form})
	}
	if err := s.uiAllowAddress(r); err != nil {
		return fail(http.StatusTooManyRequests, err.Error())
	}
	email, password := r.PostFormValue("email"), r.PostFormValue("password")
	login, loginErr := domain.NormalizeEmail(email)
	if loginErr == nil && s.deps.LoginLimiter != nil {
		count, reset, err := s.deps.LoginLimiter.TakeLoginAttempt(r.Context(), login, s.deps.LoginFailureWindow)
		if err != nil {
			s.deps.Log.Warn("login limiter unavailable", "err", err)
		} else if count > s.deps.LoginFailuresPerWindow {
			retry := max(int(reset.Sub(s.deps.Now()).Seconds()+0.999), 1)
			return fail(http.StatusTooManyRequests, "Too many failed logins for this email address; try again in "+strconv.Itoa(retry)+" s.")
		}
	}
	u, err := s.checkPassword(r.Context(), email, password)
	if err != nil {
		if domain.ErrorCode(err) == domain.ErrUnauthorized {
			return fail(http.StatusUnauthorized, "Wrong email or password.")
		}
		return err
	}
	if u.TwoFactor {
		// The password was right; the code comes next. The attempt stays
		// counted until the code is right too.
		http.SetCookie(w, s.cookie(r, pendingLoginCookie, s.pendingLogin(u.ID, u.AccountID, form.Next), pendingLoginTTL))
		return redirect(w, r, "/login/2fa")
	}
	if loginErr == nil && s.deps.LoginLimiter != nil {
		if err := s.deps.LoginLimiter.ClearLogin(r.Context(), login); err != nil {
			s.deps.Log.Warn("clear failed logins", "err", err)
		}
	}
	if err := s.startSession(w, r, u.ID, u.AccountID); err != nil {
		return err
	}
	return redirect(w, r, form.Next)
}

func (s *Server) uiSignupPage(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if v != nil {
		return redirect(w, r, "/")
	}
	return s.render(w, r, http.StatusOK, "signup", uiPage{Title: "Sign up", Data: uiAuthForm{SignupClosed: s.signupClosed(r)}})
}

func (s *Server) uiSignup(w http.ResponseWriter, r *http.Request, _ *viewer) error {
	form := uiAuthForm{Email: r.PostFormValue("email"), FullName: r.PostFormValue("full_name"), AccountName: r.PostFormValue("account_name")}
	fail := func(status int, errs map[string]string) error {
		return s.render(w, r, status, "signup", uiPage{Title: "Sign up", Errors: errs, Data: form})
	}
	if err := s.uiAllowAddress(r); err != nil {
		return fail(http.StatusTooManyRequests, map[string]string{"": err.Error()})
	}
	var v domain.Validation
	for _, f := range []string{"email", "password", "account_name"} {
		if r.PostFormValue(f) == "" {
			v.Add(f, "missing", "field required")
		}
	}
	if err := v.Err(); err != nil {
		errs, _ := formErrors(err)
		return fail(http.StatusUnprocessableEntity, errs)
	}
	res, err := s.deps.Signup.Handle(r.Context(), commands.Signup{CorrelationID: requestID(r), Email: form.Email,
		Password: r.PostFormValue("password"), AccountName: form.AccountName, FullName: form.FullName})
	if domain.ErrorCode(err) == domain.ErrForbidden {
		form.SignupClosed = domain.ErrorMessage(err)
		return fail(http.StatusForbidden, nil)
	}
	if err != nil {
		if errs, ok := formErrors(err); ok {
			return fail(statusOf(domain.ErrorCode(err)), errs)
		}
		return err
	}
	if err := s.startSession(w, r, res.UserID, res.AccountID); err != nil {
		return err
	}
	s.settleUI(w, r, res.Position, "Welcome to Media Luna. Add your first monitor.")
	return redirect(w, r, "/monitors/new")
}

func (s *Server) uiLogout(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if err := s.endSession(w, r, v); err != nil {
		return err
	}
	setFlash(w, "You are logged out.")
	return redirect(w, r, "/login")
}

func (s *Server) uiInvitePage(w http.ResponseWriter, r *http.Request, _ *viewer) error {
	token := r.URL.Query().Get("token")
	accountID, inviteID, err := s.deps.InviteTokens.Verify(token)
	if err != nil {
		return &requestError{status: http.StatusNotFound, detail: "This invitation link is not valid. Ask for a new invitation."}
	}
	inv, err := s.deps.Queries.Invite(r.Context(), accountID, inviteID)
	if domain.ErrorCode(err) == domain.ErrNotFound {
		// Signed by this server, so in the log; the read model has not
		// caught up yet. The command decides on submit.
		return s.render(w, r, http.StatusOK, "invite", uiPage{Title: "Accept the invitation", Data: uiAuthForm{Token: token}})
	}
	if err != nil {
		return err
	}
	// Say why a link no longer works before asking for a password: the
	// same states, in the same order, as AcceptInvite refuses them.
	closed := func(status int, msg string) error {
		return s.render(w, r, status, "invite", uiPage{Title: "Invitation closed", Data: uiAuthForm{Closed: msg}})
	}
	switch {
	case inv.ReplacedBy != nil:
		return closed(http.StatusNotFound, "This invitation was replaced by a newer one. Use the link in the latest invitation email to "+inv.Email+".")
	case inv.RevokedAt != nil:
		return closed(http.StatusNotFound, "This invitation was withdrawn. Ask the team's ADMIN for a new one if you still need it.")
	case inv.AcceptedBy != nil:
		return closed(http.StatusConflict, "This invitation has already been accepted. Log in with the password chosen then.")
	case !s.deps.Now().Before(inv.ExpiresAt):
		return closed(http.StatusGone, "This invitation expired on "+uiWhen(inv.ExpiresAt)+". Ask the team's ADMIN to send it again.")
	}
	return s.render(w, r, http.StatusOK, "invite", uiPage{Title: "Accept the invitation", Data: uiAuthForm{Token: token}})
}

func (s *Server) uiAcceptInvite(w http.ResponseWriter, r *http.Request, _ *viewer) error {
	form := uiAuthForm{Token: r.PostFormValue("token"), FullName: r.PostFormValue("full_name")}
	fail := func(status int, errs map[string]string) error {
		return s.render(w, r, status, "invite", uiPage{Title: "Accept the invitation", Errors: errs, Data: form})
	}
	if err := s.uiAllowAddress(r); err != nil {
		return fail(http.StatusTooManyRequests, map[string]string{"": err.Error()})
	}
	res, err := s.deps.AcceptInvite.Handle(r.Context(), commands.AcceptInvite{CorrelationID: requestID(r), Token: form.Token,
		Password: r.PostFormValue("password"), FullName: form.FullName})
	if err != nil {
		if errs, ok := formErrors(err); ok {
			return fail(statusOf(domain.ErrorCode(err)), errs)
		}
		if code := domain.ErrorCode(err); code == domain.ErrNotFound || code == domain.ErrUnauthorized || code == domain.ErrForbidden {
			return fail(statusOf(code), map[string]string{"": domain.ErrorMessage(err)})
		}
		return err
	}
	if err := s.startSession(w, r, res.UserID, res.AccountID); err != nil {
		return err
	}
	s.settleUI(w, r, res.Position, "Welcome to the team.")
	return redirect(w, r, "/")
}

// The second step of a sign-in with two-factor sign-in on. A right
// password sets a short-lived cookie, signed with a key derived from the
// JWT secret, naming the user, the page to go on to and when it ends; the
// code form then signs in. Each code is an attempt against the email's
// login limit, as a password is; the limit is cleared only by a right code.

const (
	pendingLoginCookie = "medialuna_2fa"
	pendingLoginTTL    = 5 * time.Minute
)

func (s *Server) pendingLoginMAC(payload string) string {
	m := hmac.New(sha256.New, derivedKey(s.deps.JWTSecret, "dashboard pending login"))
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// pendingLogin is the cookie's value: user.account.expiry.next, signed.
func (s *Server) pendingLogin(userID, accountID int64, next string) string {
	payload := strconv.FormatInt(userID, 10) + "." + strconv.FormatInt(accountID, 10) + "." +
		strconv.FormatInt(s.deps.Now().Add(pendingLoginTTL).Unix(), 10) + "." + base64.RawURLEncoding.EncodeToString([]byte(next))
	return payload + "." + s.pendingLoginMAC(payload)
}

type uiPendingLogin struct {
	UserID, AccountID int64
	Next              string
}

// readPendingLogin checks the cookie: signed by us and not expired.
func (s *Server) readPendingLogin(r *http.Request) (uiPendingLogin, bool) {
	c, err := r.Cookie(pendingLoginCookie)
	if err != nil || len(c.Value) > 500 {
		return uiPendingLogin{}, false
	}
	i := strings.LastIndex(c.Value, ".")
	if i < 0 || !hmac.Equal([]byte(c.Value[i+1:]), []byte(s.pendingLoginMAC(c.Value[:i]))) {
		return uiPendingLogin{}, false
	}
	parts := strings.Split(c.Value[:i], ".")
	if len(parts) != 4 {
		return uiPendingLogin{}, false
	}
	userID, err1 := strconv.ParseInt(parts[0], 10, 64)
	accountID, err2 := strconv.ParseInt(parts[1], 10, 64)
	expires, err3 := strconv.ParseInt(parts[2], 10, 64)
	next, err4 := base64.RawURLEncoding.DecodeString(parts[3])
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || !s.deps.Now().Before(time.Unix(expires, 0)) {
		return uiPendingLogin{}, false
	}
	return uiPendingLogin{UserID: userID, AccountID: accountID, Next: safeNext(string(next))}, true
}

func (s *Server) uiLoginCodePage(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if v != nil {
		return redirect(w, r, "/")
	}
	if _, ok := s.readPendingLogin(r); !ok {
		setFlash(w, "Your sign-in timed out. Log in again.")
		return redirect(w, r, "/login")
	}
	return s.render(w, r, http.StatusOK, "login_2fa", uiPage{Title: "Two-factor sign-in"})
}

func (s *Server) uiLoginCode(w http.ResponseWriter, r *http.Request, _ *viewer) error {
	fail := func(status int, msg string) error {
		return s.render(w, r, status, "login_2fa", uiPage{Title: "Two-factor sign-in", Errors: map[string]string{"code": msg}})
	}
	if err := s.uiAllowAddress(r); err != nil {
		return fail(http.StatusTooManyRequests, err.Error())
	}
	pending, ok := s.readPendingLogin(r)
	if !ok {
		setFlash(w, "Your sign-in timed out. Log in again.")
		return redirect(w, r, "/login")
	}
	u, err := s.deps.Queries.User(r.Context(), pending.AccountID, pending.UserID)
	if domain.ErrorCode(err) == domain.ErrNotFound || err == nil && u.Role == "" {
		// Removed from the account since the password step.
		setFlash(w, "Your sign-in timed out. Log in again.")
		return redirect(w, r, "/login")
	}
	if err != nil {
		return err
	}
	if s.deps.LoginLimiter != nil {
		count, reset, err := s.deps.LoginLimiter.TakeLoginAttempt(r.Context(), u.Email, s.deps.LoginFailureWindow)
		if err != nil {
			s.deps.Log.Warn("login limiter unavailable", "err", err)
		} else if count > s.deps.LoginFailuresPerWindow {
			retry := max(int(reset.Sub(s.deps.Now()).Seconds()+0.999), 1)
			return fail(http.StatusTooManyRequests, "Too many failed logins for this email address; try again in "+strconv.Itoa(retry)+" s.")
		}
	}
	if _, err := s.deps.UseSecondFactor.Handle(r.Context(), commands.UseSecondFactor{CorrelationID: requestID(r),
		UserID: u.ID, AccountID: u.AccountID, Code: r.PostFormValue("code")}); err != nil {
		if domain.ErrorCode(err) == domain.ErrUnauthorized {
			msg := domain.ErrorMessage(err)
			return fail(http.StatusUnauthorized, strings.ToUpper(msg[:1])+msg[1:]+".")
		}
		return err
	}
	if s.deps.LoginLimiter != nil {
		if err := s.deps.LoginLimiter.ClearLogin(r.Context(), u.Email); err != nil {
			s.deps.Log.Warn("clear failed logins", "err", err)
		}
	}
	http.SetCookie(w, s.cookie(r, pendingLoginCookie, "", -1))
	if err := s.startSession(w, r, u.ID, u.AccountID); err != nil {
		return err
	}
	return redirect(w, r, pending.Next)
}
