package httpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/medialuna/medialuna/projections"
)

// The operator view: the server's own state (each read model's position,
// lag and parked events; each probe region's assignments and results),
// for whoever runs the server, not for an account's users. It takes the
// operator token (--operator-token), as GET /api/admin/projections does:
// the token is typed once into a form and exchanged for a signed cookie,
// scoped to /operator, that stops working when the token changes.

func (s *Server) uiOperatorRoutes() {
	s.uiRoute("GET", "/operator", "", s.uiOperator)
	s.uiRoute("POST", "/operator/login", "", s.uiOperatorLogin)
	s.uiRoute("POST", "/operator/logout", "", s.uiOperatorLogout)
}

const (
	operatorCookie = "medialuna_operator"
	// operatorViewFor is how long the operator stays signed in to the view.
	operatorViewFor = 8 * time.Hour
)

type uiOperatorRegion struct {
	projections.RegionActivity
	State string // reporting, late, idle, no results yet, inactive
}

type uiOperatorData struct {
	Enabled     bool // the server has an operator token
	SignedIn    bool
	Projections []projections.ProjectorStatus
	Regions     []uiOperatorRegion
	Behind      int   // read models with events still to apply
	Parked      int64 // parked events over all read models
	Late        int64 // monitors late in some region
	Head        uint64
	At          time.Time
}

// operatorSignature signs an operator cookie's expiry with a key derived
// from the server's secret and the operator token itself, so that a new
// token ends every operator cookie made with the old one.
func (s *Server) operatorSignature(expires string) string {
	token := sha256.Sum256([]byte(s.deps.OperatorToken))
	m := hmac.New(sha256.New, derivedKey(s.deps.JWTSecret, "operator view"))
	m.Write([]byte(expires + "|"))
	m.Write(token[:])
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// isOperator reports whether the request carries a valid operator cookie.
func (s *Server) isOperator(r *http.Request) bool {
	if s.deps.OperatorToken == "" {
		return false
	}
	c, err := r.Cookie(operatorCookie)
	if err != nil {
		return false
	}
	expires, sig, ok := strings.Cut(c.Value, ".")
	if !ok {
		return false
	}
	unix, err := strconv.ParseInt(expires, 10, 64)
	if err != nil || s.deps.Now().Unix() >= unix {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(sig), []byte(s.operatorSignature(expires))) == 1
}

func (s *Server) operatorCookie(r *http.Request, value string, maxAge time.Duration) *http.Cookie {
	c := s.cookie(r, operatorCookie, value, maxAge)
	c.Path = "/operator"
	c.SameSite = http.SameSiteStrictMode
	return c
}

func (s *Server) uiOperator(w http.ResponseWriter, r *http.Request, v *viewer) error {
	d := uiOperatorData{Enabled: s.deps.OperatorToken != "", SignedIn: s.isOperator(r), At: s.deps.Now()}
	page := uiPage{Title: "Operator", Nav: "operator", Viewer: v, Data: &d}
	if !d.SignedIn {
		if r.Header.Get("HX-Request") == "true" {
			// A refresh of the status after the cookie ran out: load the
			// sign-in form as a page.
			w.Header().Set("HX-Redirect", "/operator")
			w.WriteHeader(http.StatusUnauthorized)
			return nil
		}
		return s.render(w, r, http.StatusOK, "operator_login", page)
	}
	var err error
	if d.Projections, err = s.deps.Queries.ProjectorStatuses(r.Context(), s.deps.Projectors); err != nil {
		return err
	}
	regions, err := s.deps.Queries.RegionActivity(r.Context(), d.At)
	if err != nil {
		return err
	}
	for _, rg := range regions {
		d.Regions = append(d.Regions, uiOperatorRegion{RegionActivity: rg, State: operatorRegionState(rg)})
	}
	for _, p := range d.Projections {
		d.Head = max(d.Head, p.HeadPosition)
		d.Parked += p.Parked
		if p.LagEvents > 0 {
			d.Behind++
		}
	}
	for _, rg := range d.Regions {
		d.Late += rg.Late
	}
	return s.render(w, r, http.StatusOK, "operator", page)
}

func (s *Server) uiOperatorLogin(w http.ResponseWriter, r *http.Request, v *viewer) error {
	d := uiOperatorData{Enabled: s.deps.OperatorToken != ""}
	fail := func(status int, msg string) error {
		return s.render(w, r, status, "operator_login", uiPage{Title: "Operator", Nav: "operator", Viewer: v, Data: &d,
			Errors: map[string]string{"token": msg}})
	}
	if !d.Enabled {
		return fail(http.StatusNotFound, "The operator view is off: start the server with --operator-token (or MEDIALUNA_OPERATOR_TOKEN).")
	}
	if err := s.uiAllowAddress(r); err != nil {
		return fail(http.StatusTooManyRequests, err.Error())
	}
	if subtle.ConstantTimeCompare([]byte(r.PostFormValue("token")), []byte(s.deps.OperatorToken)) != 1 {
		s.deps.Log.Info("operator view: wrong token", "request_id", requestID(r))
		return fail(http.StatusUnauthorized, "That is not the server's operator token.")
	}
	expires := strconv.FormatInt(s.deps.Now().Add(operatorViewFor).Unix(), 10)
	http.SetCookie(w, s.operatorCookie(r, expires+"."+s.operatorSignature(expires), operatorViewFor))
	return redirect(w, r, "/operator")
}

func (s *Server) uiOperatorLogout(w http.ResponseWriter, r *http.Request, _ *viewer) error {
	http.SetCookie(w, s.operatorCookie(r, "", -1))
	return redirect(w, r, "/operator")
}

// operatorRegionState names a region's health for people.
func operatorRegionState(rg projections.RegionActivity) string {
	switch {
	case !rg.Active:
		return "inactive"
	case rg.Assigned == 0:
		return "idle"
	case rg.LastResultAt == nil:
		return "no results yet"
	case rg.Late > 0:
		return "late"
	}
	return "reporting"
}
