package httpapi

import (
	"bytes"
	"encoding/base64"
	"html/template"
	"image/png"
	"net/http"
	"strconv"

	"github.com/pquerna/otp"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
)

// Your profile (/settings/profile): the signed-in user's name, password
// and two-factor sign-in. Every change is the user's own, through the
// commands (commands/profile.go, commands/twofactor.go), which decide.

func (s *Server) uiProfileRoutes() {
	s.uiRoute("GET", "/settings/profile", domain.RoleViewer, s.uiProfilePage)
	s.uiRoute("POST", "/settings/profile/name", domain.RoleViewer, s.uiRename)
	s.uiRoute("POST", "/settings/profile/password", domain.RoleViewer, s.uiChangePassword)
	s.uiRoute("POST", "/settings/profile/two-factor", domain.RoleViewer, s.uiStartTwoFactor)
	s.uiRoute("POST", "/settings/profile/two-factor/confirm", domain.RoleViewer, s.uiConfirmTwoFactor)
	s.uiRoute("POST", "/settings/profile/two-factor/disable", domain.RoleViewer, s.uiDisableTwoFactor)
}

type uiProfile struct {
	FullName  string
	Email     string
	TwoFactor bool
}

// uiTwoFactorEnrol is the enrolment page: the secret (as a QR code and as
// text) only in the answer to the POST that made it.
type uiTwoFactorEnrol struct {
	QR     template.URL
	Secret string
	// Spaced is the secret in groups of four, easier to type.
	Spaced string
}

func (s *Server) renderProfile(w http.ResponseWriter, r *http.Request, v *viewer, status int, errs map[string]string, name string) error {
	u, err := s.deps.Queries.User(r.Context(), v.AccountID, v.UserID)
	if err != nil {
		return err
	}
	if name == "" {
		name = u.FullName
	}
	return s.render(w, r, status, "profile", uiPage{Title: "Your profile", Nav: "settings", Sub: "profile", Viewer: v, Errors: errs,
		Data: uiProfile{FullName: name, Email: u.Email, TwoFactor: u.TwoFactor}})
}

func (s *Server) uiProfilePage(w http.ResponseWriter, r *http.Request, v *viewer) error {
	return s.renderProfile(w, r, v, http.StatusOK, nil, "")
}

// uiFormFailure re-renders with a command's field errors, or returns err.
func (s *Server) uiFormFailure(err error, render func(status int, errs map[string]string) error) error {
	if errs, ok := formErrors(err); ok {
		return render(statusOf(domain.ErrorCode(err)), errs)
	}
	return err
}

func (s *Server) uiRename(w http.ResponseWriter, r *http.Request, v *viewer) error {
	name := r.PostFormValue("full_name")
	pos, err := s.deps.RenameUser.Handle(r.Context(), commands.RenameUser{Actor: v.actor(r), FullName: name})
	if err != nil {
		return s.uiFormFailure(err, func(status int, errs map[string]string) error {
			return s.renderProfile(w, r, v, status, errs, name)
		})
	}
	s.settleUI(w, r, pos, "Your name is changed.")
	return redirect(w, r, "/settings/profile")
}

// uiPasswordAttempt counts a password typed to change the login (a new
// password, two-factor sign-in off) against the email's failed-login
// limit, as a login's is: a session left open or stolen gives no
// unlimited guesses at the password. A refusal is the form's message.
func (s *Server) uiPasswordAttempt(r *http.Request, v *viewer) map[string]string {
	if s.deps.LoginLimiter == nil {
		return nil
	}
	count, reset, err := s.deps.LoginLimiter.TakeLoginAttempt(r.Context(), v.Email, s.deps.LoginFailureWindow)
	if err != nil {
		s.deps.Log.Warn("login limiter unavailable", "err", err)
		return nil
	}
	if count <= s.deps.LoginFailuresPerWindow {
		return nil
	}
	retry := max(int(reset.Sub(s.deps.Now()).Seconds()+0.999), 1)
	return map[string]string{"": "Too many failed password attempts for this email address; try again in " + strconv.Itoa(retry) + " s."}
}

// uiPasswordRight forgets the counted attempts, as a right login does.
func (s *Server) uiPasswordRight(r *http.Request, v *viewer) {
	if s.deps.LoginLimiter != nil {
		if err := s.deps.LoginLimiter.ClearLogin(r.Context(), v.Email); err != nil {
			s.deps.Log.Warn("clear failed logins", "err", err)
		}
	}
}

func (s *Server) uiChangePassword(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if errs := s.uiPasswordAttempt(r, v); errs != nil {
		return s.renderProfile(w, r, v, http.StatusTooManyRequests, errs, "")
	}
	pos, err := s.deps.ChangePassword.Handle(r.Context(), commands.ChangePassword{Actor: v.actor(r),
		CurrentPassword: r.PostFormValue("current_password"), NewPassword: r.PostFormValue("new_password")})
	if err != nil {
		return s.uiFormFailure(err, func(status int, errs map[string]string) error {
			return s.renderProfile(w, r, v, status, errs, "")
		})
	}
	s.uiPasswordRight(r, v)
	// Every other dashboard session of the user ends now; access tokens
	// issued before the change stop working once the read model has it.
	if err := s.deps.Sessions.DeleteUser(r.Context(), v.UserID, v.sessionHash); err != nil {
		return err
	}
	s.settleUI(w, r, pos, "Your password is changed. You are signed out everywhere else.")
	return redirect(w, r, "/settings/profile")
}

func (s *Server) uiStartTwoFactor(w http.ResponseWriter, r *http.Request, v *viewer) error {
	enrol, err := s.deps.StartTwoFactor.Handle(r.Context(), commands.StartTwoFactor{Actor: v.actor(r), Email: v.Email})
	if err != nil {
		return s.uiFormFailure(err, func(status int, errs map[string]string) error {
			return s.renderProfile(w, r, v, status, errs, "")
		})
	}
	key, err := otp.NewKeyFromURL(enrol.URL)
	if err != nil {
		return err
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	var spaced []byte
	for i := 0; i < len(enrol.Secret); i++ {
		if i > 0 && i%4 == 0 {
			spaced = append(spaced, ' ')
		}
		spaced = append(spaced, enrol.Secret[i])
	}
	// The secret must not be kept by the browser or a proxy.
	w.Header().Set("Cache-Control", "no-store")
	return s.render(w, r, http.StatusOK, "profile_2fa", uiPage{Title: "Set up two-factor sign-in", Nav: "settings", Sub: "profile", Viewer: v,
		Data: uiTwoFactorEnrol{QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())),
			Secret: enrol.Secret, Spaced: string(spaced)}})
}

func (s *Server) uiConfirmTwoFactor(w http.ResponseWriter, r *http.Request, v *viewer) error {
	codes, err := s.deps.ConfirmTwoFactor.Handle(r.Context(), commands.ConfirmTwoFactor{Actor: v.actor(r), Code: r.PostFormValue("code")})
	if err != nil {
		// The secret is not shown again: the person has it in their app,
		// or starts over with a new one.
		return s.uiFormFailure(err, func(status int, errs map[string]string) error {
			return s.render(w, r, status, "profile_2fa", uiPage{Title: "Set up two-factor sign-in", Nav: "settings", Sub: "profile",
				Viewer: v, Errors: errs, Data: uiTwoFactorEnrol{}})
		})
	}
	s.settle(r, codes.Position)
	w.Header().Set("Cache-Control", "no-store")
	return s.render(w, r, http.StatusOK, "profile_2fa_codes", uiPage{Title: "Your recovery codes", Nav: "settings", Sub: "profile",
		Viewer: v, Flash: "Two-factor sign-in is on.", Data: codes.Codes})
}

func (s *Server) uiDisableTwoFactor(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if errs := s.uiPasswordAttempt(r, v); errs != nil {
		return s.renderProfile(w, r, v, http.StatusTooManyRequests, errs, "")
	}
	pos, err := s.deps.DisableTwoFactor.Handle(r.Context(), commands.DisableTwoFactor{Actor: v.actor(r),
		Password: r.PostFormValue("password"), Code: r.PostFormValue("code")})
	if err != nil {
		return s.uiFormFailure(err, func(status int, errs map[string]string) error {
			return s.renderProfile(w, r, v, status, errs, "")
		})
	}
	s.uiPasswordRight(r, v)
	s.settleUI(w, r, pos, "Two-factor sign-in is off.")
	return redirect(w, r, "/settings/profile")
}
