package domain_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/domain"
)

// fakePasswords "hashes" by prefixing, so a test can see what was hashed.
type fakePasswords struct{}

func (fakePasswords) Matches(hash, pw string) bool   { return hash == "h:"+pw }
func (fakePasswords) Hash(pw string) (string, error) { return "h:" + pw, nil }

// fakeCodes accepts, for secret "S", the codes it maps to their steps.
type fakeCodes map[string]int64

func (f fakeCodes) MatchCode(secret, code string) (int64, bool) {
	if secret != "S" {
		return 0, false
	}
	step, ok := f[code]
	return step, ok
}

var codes = fakeCodes{"111111": 100, "222222": 101, "099999": 99}

func recoveryHashes() []string {
	var out []string
	for i := range domain.RecoveryCodeCount {
		out = append(out, domain.HashRecoveryCode("RC"+strings.Repeat("A", i+1)))
	}
	return out
}

func foldUser(events ...domain.Event) *domain.User {
	u := &domain.User{}
	u.Apply(&domain.UserRegistered{UserID: 7, AccountID: 3, Email: "a@example.com", FullName: "Ann", PasswordHash: "h:old password"})
	for _, e := range events {
		u.Apply(e)
	}
	return u
}

func enabled(extra ...domain.Event) *domain.User {
	return foldUser(append([]domain.Event{&domain.TwoFactorEnrolmentStarted{UserID: 7, Secret: "S"},
		&domain.TwoFactorEnabled{UserID: 7, Secret: "S", RecoveryCodeHashes: recoveryHashes(), Step: 100}}, extra...)...)
}

// fieldOf is the field of a 422's first failure, "" otherwise.
func fieldOf(err error) string {
	var e *domain.Error
	if de, ok := err.(*domain.Error); ok {
		e = de
	}
	if e == nil || len(e.Fields) == 0 {
		return ""
	}
	return e.Fields[0].Field
}

func TestUserRename(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []domain.Event
		field    string
	}{
		{"new name", "  Ann Lee ", []domain.Event{&domain.UserRenamed{UserID: 7, FullName: "Ann Lee"}}, ""},
		{"same name changes nothing", "Ann", nil, ""},
		{"empty", "   ", nil, "full_name"},
		{"too long", strings.Repeat("x", 201), nil, "full_name"},
		{"control characters", "Ann\nLee", nil, "full_name"},
		{"hostile text is just a name", `<img src=x onerror=alert(1)>`, []domain.Event{&domain.UserRenamed{UserID: 7, FullName: `<img src=x onerror=alert(1)>`}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := foldUser().Rename(tc.in)
			if fieldOf(err) != tc.field || (tc.field == "" && err != nil) {
				t.Fatalf("err = %v, want field %q", err, tc.field)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Error(diff)
			}
		})
	}
	if _, err := (&domain.User{}).Rename("x"); domain.ErrorCode(err) != domain.ErrNotFound {
		t.Errorf("unknown user: %v", err)
	}
}

func TestUserChangePassword(t *testing.T) {
	for _, tc := range []struct {
		name, current, next string
		want                []domain.Event
		fields              []string
	}{
		{"right", "old password", "new password", []domain.Event{&domain.PasswordChanged{UserID: 7, PasswordHash: "h:new password"}}, nil},
		{"wrong current", "wrong", "new password", nil, []string{"current_password"}},
		{"too short", "old password", "short", nil, []string{"new_password"}},
		{"too long", "old password", strings.Repeat("x", 73), nil, []string{"new_password"}},
		{"blank", "old password", "          ", nil, []string{"new_password"}},
		{"same as current", "old password", "old password", nil, []string{"new_password"}},
		{"both wrong", "wrong", "short", nil, []string{"current_password", "new_password"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := foldUser().ChangePassword(fakePasswords{}, tc.current, tc.next)
			var fields []string
			if e, ok := err.(*domain.Error); ok {
				for _, f := range e.Fields {
					fields = append(fields, f.Field)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.fields, fields); diff != "" {
				t.Errorf("fields: %s", diff)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Error(diff)
			}
		})
	}
	u := foldUser(&domain.PasswordChanged{UserID: 7, PasswordHash: "h:newer password"})
	if _, err := u.ChangePassword(fakePasswords{}, "old password", "another one"); fieldOf(err) != "current_password" {
		t.Errorf("the old password after a change: %v", err)
	}
}

func TestTwoFactorEnrolment(t *testing.T) {
	hashes := recoveryHashes()
	pending := []domain.Event{&domain.TwoFactorEnrolmentStarted{UserID: 7, Secret: "S"}}
	for _, tc := range []struct {
		name    string
		user    *domain.User
		code    string
		want    []domain.Event
		errCode string
		field   string
	}{
		{"right code", foldUser(pending...), "111 111", []domain.Event{&domain.TwoFactorEnabled{UserID: 7, Secret: "S", RecoveryCodeHashes: hashes, Step: 100}}, "", ""},
		{"wrong code", foldUser(pending...), "123456", nil, domain.ErrInvalid, "code"},
		{"not a code", foldUser(pending...), "abc", nil, domain.ErrInvalid, "code"},
		{"nothing pending", foldUser(), "111111", nil, domain.ErrConflict, ""},
		{"already on", enabled(), "222222", nil, domain.ErrConflict, ""},
		{"a restart replaces the secret", foldUser(append(pending, &domain.TwoFactorEnrolmentStarted{UserID: 7, Secret: "T"})...), "111111", nil, domain.ErrInvalid, "code"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.user.ConfirmTwoFactor(codes, tc.code, hashes)
			if tc.errCode == "" && err != nil || tc.errCode != "" && domain.ErrorCode(err) != tc.errCode || fieldOf(err) != tc.field {
				t.Fatalf("err = %v, want %q on %q", err, tc.errCode, tc.field)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Error(diff)
			}
		})
	}
	if _, err := enabled().StartTwoFactor("X"); domain.ErrorCode(err) != domain.ErrConflict {
		t.Errorf("start while on: %v", err)
	}
	if got, err := foldUser().StartTwoFactor("S"); err != nil || len(got) != 1 {
		t.Errorf("start: %v %v", got, err)
	}
	if u := enabled(); u.PendingSecret != "" || !u.TwoFactor || u.LastStep != 100 {
		t.Errorf("after enabling: %+v", u)
	}
}

func TestUseSecondFactor(t *testing.T) {
	for _, tc := range []struct {
		name string
		user *domain.User
		code string
		want []domain.Event // nil: refused with ErrUnauthorized
	}{
		{"a later step", enabled(), "222222", []domain.Event{&domain.TwoFactorCodeUsed{UserID: 7, Step: 101}}},
		{"the confirming code again", enabled(), "111111", nil},
		{"an earlier step", enabled(), "099999", nil},
		{"the same code twice", enabled(&domain.TwoFactorCodeUsed{UserID: 7, Step: 101}), "222222", nil},
		{"wrong code", enabled(), "654321", nil},
		{"empty", enabled(), " ", nil},
		{"recovery code, typed loosely", enabled(), "rc-aaa", []domain.Event{&domain.RecoveryCodeUsed{UserID: 7, Index: 2}}},
		{"recovery code used", enabled(&domain.RecoveryCodeUsed{UserID: 7, Index: 2}), "RCAAA", nil},
		{"another recovery code still works", enabled(&domain.RecoveryCodeUsed{UserID: 7, Index: 2}), "RCA", []domain.Event{&domain.RecoveryCodeUsed{UserID: 7, Index: 0}}},
		{"unknown recovery code", enabled(), "RCB", nil},
		{"two-factor off", foldUser(), "222222", nil},
		{"after disabling", enabled(&domain.TwoFactorDisabled{UserID: 7}), "RCA", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.user.UseSecondFactor(codes, tc.code)
			if tc.want == nil && domain.ErrorCode(err) != domain.ErrUnauthorized || tc.want != nil && err != nil {
				t.Fatalf("err = %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Error(diff)
			}
		})
	}
}

func TestDisableTwoFactor(t *testing.T) {
	off := &domain.TwoFactorDisabled{UserID: 7}
	for _, tc := range []struct {
		name, password, code string
		user                 *domain.User
		want                 []domain.Event
		fields               []string
		errCode              string
	}{
		{"password and code", "old password", "222222", enabled(), []domain.Event{&domain.TwoFactorCodeUsed{UserID: 7, Step: 101}, off}, nil, ""},
		{"password and recovery code", "old password", "RCA", enabled(), []domain.Event{&domain.RecoveryCodeUsed{UserID: 7, Index: 0}, off}, nil, ""},
		{"wrong password", "nope", "222222", enabled(), nil, []string{"password"}, domain.ErrInvalid},
		{"used code", "old password", "111111", enabled(), nil, []string{"code"}, domain.ErrInvalid},
		{"no code", "old password", "", enabled(), nil, []string{"code"}, domain.ErrInvalid},
		{"both wrong", "nope", "000000", enabled(), nil, []string{"password", "code"}, domain.ErrInvalid},
		{"already off", "old password", "222222", foldUser(), nil, nil, domain.ErrConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.user.DisableTwoFactor(fakePasswords{}, codes, tc.password, tc.code)
			if domain.ErrorCode(err) != tc.errCode {
				t.Fatalf("err = %v, want %q", err, tc.errCode)
			}
			var fields []string
			if e, ok := err.(*domain.Error); ok {
				for _, f := range e.Fields {
					fields = append(fields, f.Field)
				}
			}
			if diff := cmp.Diff(tc.fields, fields); diff != "" {
				t.Errorf("fields: %s", diff)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Error(diff)
			}
		})
	}
	if u := enabled(off); u.TwoFactor || u.Secret != "" || len(u.RecoveryHashes) != 0 {
		t.Errorf("after disabling: %+v", u)
	}
}

// The secret and the recovery code hashes are what the log must never
// hold in the clear: MapSecrets reaches every one of them, and leaves the
// caller's slice as it was.
func TestTwoFactorSecretsAreSealed(t *testing.T) {
	for _, typ := range []string{domain.EvTwoFactorEnrolmentStarted, domain.EvTwoFactorEnabled} {
		if !domain.BearsSecrets(typ) {
			t.Errorf("BearsSecrets(%s) = false", typ)
		}
	}
	hashes := recoveryHashes()
	e := &domain.TwoFactorEnabled{UserID: 7, Secret: "S", RecoveryCodeHashes: hashes, Step: 1}
	var seen []string
	if err := e.MapSecrets(func(v string) (string, error) { seen = append(seen, v); return "enc:v1:x", nil }); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1+domain.RecoveryCodeCount || e.Secret != "enc:v1:x" || e.RecoveryCodeHashes[9] != "enc:v1:x" || hashes[9] == "enc:v1:x" {
		t.Errorf("sealed %d values: %+v; caller's slice %v", len(seen), e, hashes[9])
	}
	p := &domain.TwoFactorEnrolmentStarted{UserID: 7, Secret: "S"}
	if err := p.MapSecrets(func(string) (string, error) { return "enc:v1:y", nil }); err != nil || p.Secret != "enc:v1:y" {
		t.Errorf("pending secret: %+v %v", p, err)
	}
}
