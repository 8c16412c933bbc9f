package domain

import "testing"

func TestSignupPolicy(t *testing.T) {
	for _, tc := range []struct {
		policy SignupPolicy
		first  bool
		allow  bool
	}{
		{SignupOpen, true, true},
		{SignupOpen, false, true},
		{"", false, true},
		{SignupInvite, true, true},
		{SignupInvite, false, false},
		{SignupClosed, true, false},
		{SignupClosed, false, false},
	} {
		err := tc.policy.MaySignUp(tc.first)
		if (err == nil) != tc.allow {
			t.Errorf("%q, first account %v: %v, want allowed %v", tc.policy, tc.first, err, tc.allow)
		}
		if err != nil && ErrorCode(err) != ErrForbidden {
			t.Errorf("%q: refused with %s, want forbidden", tc.policy, ErrorCode(err))
		}
	}
	for in, want := range map[string]SignupPolicy{"open": SignupOpen, " Invite ": SignupInvite, "CLOSED": SignupClosed} {
		if got, err := ParseSignupPolicy(in); err != nil || got != want {
			t.Errorf("ParseSignupPolicy(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseSignupPolicy("sometimes"); ErrorCode(err) != ErrInvalid {
		t.Errorf("an unknown policy: %v", err)
	}
}
