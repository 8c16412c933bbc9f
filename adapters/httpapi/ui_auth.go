package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

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
	s.uiRoute("GET", "/signup", "", s.uiSignupPage)
	s.uiRoute("POST", "/signup", "", s.uiSignup)
	s.uiRoute("POST", "/logout", "", s.uiLogout)
	s.uiRoute("GET", "/invite", "", s.uiInvitePage)
	s.uiRoute("POST", "/invite", "", s.uiAcceptInvite)
}

type uiAuthForm struct {
	Email, FullName, AccountName, Token, Next string
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
	return s.render(w, r, http.StatusOK, "login", uiPage{Title: "Log in", Data: uiAuthForm{Next: safeNext(r.URL.Query().Get("next"))}})
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
	return s.render(w, r, http.StatusOK, "signup", uiPage{Title: "Sign up", Data: uiAuthForm{}})
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
	if _, _, err := s.deps.InviteTokens.Verify(token); err != nil {
		return &requestError{status: http.StatusNotFound, detail: "This invitation link is not valid. Ask for a new invitation."}
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
