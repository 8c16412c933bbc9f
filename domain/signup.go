package domain

import "strings"

// SignupPolicy says who may open an account by signing up on this server
// (serve --signup). Invited people join existing accounts under every
// policy, and the operator can always create an account from the command
// line (medialuna accounts create).
type SignupPolicy string

const (
	// SignupOpen lets anyone open an account, as the hosted product does.
	SignupOpen SignupPolicy = "open"
	// SignupInvite lets the first person sign up, who becomes the first
	// account's ADMIN; everyone after joins by invitation. The default:
	// a server put on the internet is not open to strangers by surprise,
	// and its first user needs no command line.
	SignupInvite SignupPolicy = "invite"
	// SignupClosed lets nobody sign up; the operator creates accounts.
	SignupClosed SignupPolicy = "closed"
)

// ParseSignupPolicy reads a policy's name.
func ParseSignupPolicy(s string) (SignupPolicy, error) {
	switch p := SignupPolicy(strings.ToLower(strings.TrimSpace(s))); p {
	case SignupOpen, SignupInvite, SignupClosed:
		return p, nil
	}
	return "", Errorf(ErrInvalid, "sign-up policy %q: use open, invite or closed", s)
}

// MaySignUp decides whether someone may open a new account by signing up;
// firstAccount says the account would be the server's first. The zero
// policy is open, as before policies existed.
func (p SignupPolicy) MaySignUp(firstAccount bool) error {
	switch p {
	case SignupInvite:
		if firstAccount {
			return nil
		}
		return Errorf(ErrForbidden, "sign-up on this server is by invitation: ask an administrator of your team to invite you")
	case SignupClosed:
		return Errorf(ErrForbidden, "sign-up is closed on this server: its operator creates accounts")
	}
	return nil
}
