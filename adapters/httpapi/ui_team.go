package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// The team commands and the API-key use recorder, declared where they are
// used (this page and the JSON API's team endpoints in handlers_account.go).
type (
	ChangeMemberRole interface {
		// Handle records the role; the same role records nothing.
		// Errors: ErrNotFound (no such member here), ErrConflict (the last
		// ADMIN), ErrForbidden (the actor is not an ADMIN), ErrInvalid.
		Handle(ctx context.Context, cmd commands.ChangeMemberRole) (domain.Position, error)
	}
	RemoveMember interface {
		// Handle removes the member. Errors: ErrNotFound, ErrConflict (the
		// last ADMIN), ErrForbidden.
		Handle(ctx context.Context, cmd commands.RemoveMember) (domain.Position, error)
	}
	RevokeInvite interface {
		// Handle withdraws the invitation. Errors: ErrNotFound, ErrConflict
		// (already accepted), ErrForbidden.
		Handle(ctx context.Context, cmd commands.RevokeInvite) (domain.Position, error)
	}
	ResendInvite interface {
		// Handle replaces the invitation and returns the new one's id.
		// Errors: ErrNotFound, ErrConflict, ErrLimit, ErrForbidden.
		Handle(ctx context.Context, cmd commands.ResendInvite) (int64, domain.Position, error)
	}
	// APIKeyUse records a key's use (postgres.APIKeyUse).
	APIKeyUse interface {
		// Touch records that the key was used at at; at most one write a
		// minute per key.
		Touch(ctx context.Context, keyID int64, at time.Time) error
	}
)

// The team page, /settings/team: every member sees the members and their
// roles; ADMINs also invite, change roles, remove members and resend or
// revoke pending invitations. Every rule (the last ADMIN, another account's
// member) is the commands'; the page only shows their refusals.

func (s *Server) uiTeamRoutes() {
	s.uiRoute("GET", "/settings/team", domain.RoleViewer, s.uiTeam)
	s.uiRoute("POST", "/settings/team/invite", domain.RoleAdmin, s.uiTeamInvite)
	s.uiRoute("POST", "/settings/team/members/{id:[0-9]+}/role", domain.RoleAdmin, s.uiTeamRole)
	s.uiRoute("GET", "/settings/team/members/{id:[0-9]+}/remove", domain.RoleAdmin, s.uiTeamRemovePage)
	s.uiRoute("POST", "/settings/team/members/{id:[0-9]+}/remove", domain.RoleAdmin, s.uiTeamRemove)
	s.uiRoute("POST", "/settings/team/invites/{id:[0-9]+}/resend", domain.RoleAdmin, s.uiTeamResend)
	s.uiRoute("POST", "/settings/team/invites/{id:[0-9]+}/revoke", domain.RoleAdmin, s.uiTeamRevoke)
}

type uiTeamData struct {
	Members []projections.UserRow
	Invites []projections.InviteRow
	Roles   []domain.Role
	// The invitation form's values after a refusal.
	Email string
	Role  string
	// ErrorsFor is the member or invitation a refusal is about, so its
	// message shows next to its controls ("m12", "i7").
	ErrorsFor string
	// Remove is the member the removal confirmation is about.
	Remove *projections.UserRow
}

func (s *Server) teamData(r *http.Request, v *viewer) (uiTeamData, error) {
	members, err := s.deps.Queries.Users(r.Context(), v.AccountID)
	if err != nil {
		return uiTeamData{}, err
	}
	d := uiTeamData{Members: members, Roles: []domain.Role{domain.RoleAdmin, domain.RoleEditor, domain.RoleViewer}, Role: string(domain.RoleViewer)}
	if v.IsAdmin() {
		if d.Invites, err = s.deps.Queries.PendingInvites(r.Context(), v.AccountID, s.deps.Now()); err != nil {
			return uiTeamData{}, err
		}
	}
	return d, nil
}

func (s *Server) renderTeam(w http.ResponseWriter, r *http.Request, v *viewer, status int, d uiTeamData, errs map[string]string) error {
	return s.render(w, r, status, "team", uiPage{Title: "Team", Nav: "settings", Sub: "team", Viewer: v, Errors: errs, Data: d})
}

func (s *Server) uiTeam(w http.ResponseWriter, r *http.Request, v *viewer) error {
	d, err := s.teamData(r, v)
	if err != nil {
		return err
	}
	return s.renderTeam(w, r, v, http.StatusOK, d, nil)
}

// teamRefused shows a command's refusal on the team page, next to what it
// is about, with nothing changed; other errors are the error page's.
func (s *Server) teamRefused(w http.ResponseWriter, r *http.Request, v *viewer, about string, err error, keep func(*uiTeamData)) error {
	errs, ok := formErrors(err)
	if !ok {
		return err
	}
	d, derr := s.teamData(r, v)
	if derr != nil {
		return derr
	}
	d.ErrorsFor = about
	if keep != nil {
		keep(&d)
	}
	return s.renderTeam(w, r, v, statusOf(domain.ErrorCode(err)), d, errs)
}

func (s *Server) uiTeamInvite(w http.ResponseWriter, r *http.Request, v *viewer) error {
	email, role := r.PostFormValue("email"), r.PostFormValue("role")
	_, pos, err := s.deps.Invite.Handle(r.Context(), commands.InviteMember{Actor: v.actor(r), Email: email, Role: role})
	if err != nil {
		return s.teamRefused(w, r, v, "invite", err, func(d *uiTeamData) { d.Email, d.Role = email, role })
	}
	norm, _ := domain.NormalizeEmail(email)
	s.settleUI(w, r, pos, "Invitation sent to "+norm+".")
	return redirect(w, r, "/settings/team")
}

func teamPathID(r *http.Request) int64 {
	id, _ := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	return id
}

func (s *Server) uiTeamRole(w http.ResponseWriter, r *http.Request, v *viewer) error {
	id := teamPathID(r)
	pos, err := s.deps.ChangeMemberRole.Handle(r.Context(), commands.ChangeMemberRole{Actor: v.actor(r), UserID: id, Role: r.PostFormValue("role")})
	if err != nil {
		return s.teamRefused(w, r, v, "m"+strconv.FormatInt(id, 10), err, nil)
	}
	s.settleUI(w, r, pos, "Role changed to "+r.PostFormValue("role")+".")
	return redirect(w, r, "/settings/team")
}

func (s *Server) uiTeamRemovePage(w http.ResponseWriter, r *http.Request, v *viewer) error {
	u, err := s.deps.Queries.User(r.Context(), v.AccountID, teamPathID(r))
	if err != nil {
		return err
	}
	if u.Role == "" {
		return domain.Errorf(domain.ErrNotFound, "member not found")
	}
	return s.render(w, r, http.StatusOK, "team_remove", uiPage{Title: "Remove a member", Nav: "settings", Sub: "team", Viewer: v,
		Data: uiTeamData{Remove: &u}})
}

func (s *Server) uiTeamRemove(w http.ResponseWriter, r *http.Request, v *viewer) error {
	id := teamPathID(r)
	pos, err := s.removeTeamMember(r, v.actor(r), id)
	if err != nil {
		return s.teamRefused(w, r, v, "m"+strconv.FormatInt(id, 10), err, nil)
	}
	if id == v.UserID {
		// An ADMIN who left: their own session is gone with the rest.
		setFlash(w, "You left the account.")
		return redirect(w, r, "/login")
	}
	s.settleUI(w, r, pos, "Member removed; their sessions, access tokens and API keys no longer work.")
	return redirect(w, r, "/settings/team")
}

// removeTeamMember runs the command and ends the member's dashboard sessions
// (their access tokens and API keys stop at once anyway: authentication
// re-reads the member's role on every request, which the removal clears).
func (s *Server) removeTeamMember(r *http.Request, actor commands.Actor, userID int64) (domain.Position, error) {
	pos, err := s.deps.RemoveMember.Handle(r.Context(), commands.RemoveMember{Actor: actor, UserID: userID})
	if err != nil && pos == (domain.Position{}) {
		return pos, err
	}
	if serr := s.deps.Sessions.DeleteUser(r.Context(), userID, ""); serr != nil {
		s.deps.Log.Error("end a removed member's sessions", "err", serr, "user_id", userID)
	}
	if err != nil {
		// Recorded, but the address was not released: log it, the removal stands.
		s.deps.Log.Error("remove member", "err", err, "user_id", userID)
	}
	// Wait here for the read model, so that the member's very next
	// request, whichever it is, is refused.
	if verr := s.visible(r, pos); verr != nil {
		s.deps.Log.Warn("removed member still visible", "err", verr)
	}
	return pos, nil
}

func (s *Server) uiTeamResend(w http.ResponseWriter, r *http.Request, v *viewer) error {
	id := teamPathID(r)
	_, pos, err := s.deps.ResendInvite.Handle(r.Context(), commands.ResendInvite{Actor: v.actor(r), InviteID: id})
	if err != nil {
		return s.teamRefused(w, r, v, "i"+strconv.FormatInt(id, 10), err, nil)
	}
	s.settleUI(w, r, pos, "Invitation sent again with a new link; the old link no longer works.")
	return redirect(w, r, "/settings/team")
}

func (s *Server) uiTeamRevoke(w http.ResponseWriter, r *http.Request, v *viewer) error {
	id := teamPathID(r)
	pos, err := s.deps.RevokeInvite.Handle(r.Context(), commands.RevokeInvite{Actor: v.actor(r), InviteID: id})
	if err != nil {
		return s.teamRefused(w, r, v, "i"+strconv.FormatInt(id, 10), err, nil)
	}
	s.settleUI(w, r, pos, "Invitation revoked; its link no longer works.")
	return redirect(w, r, "/settings/team")
}
