package commands_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/adapters/secretbox"
	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/test/testdb"
)

// TestTwoFactorThroughTheLog: enrol, sign in with a code and a recovery
// code, refuse a replayed code (also when two sign-ins race with it), and
// find neither the secret nor a recovery code hash in the stored log.
func TestTwoFactorThroughTheLog(t *testing.T) {
	db := testdb.New(t)
	raw := postgres.NewEventStore(db.DB, db.URL, testdb.Logger(t))
	master, err := secretbox.NewMaster("test-master-key-0123456789abcdef0123456789")
	if err != nil {
		t.Fatal(err)
	}
	store := secretbox.NewStore(raw, secretbox.New(master, postgres.NewStreamKeys(db.DB)), testdb.Logger(t))
	ctx := context.Background()
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	res, err := commands.NewSignupHandler(store, postgres.NewIDs(db.DB), clock).Handle(ctx, commands.Signup{
		Email: "ann@example.com", Password: "correct horse", AccountName: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	actor := commands.Actor{Type: domain.ActorUser, ID: res.UserID, AccountID: res.AccountID}

	enrol, err := commands.NewStartTwoFactorHandler(store, clock).Handle(ctx, commands.StartTwoFactor{Actor: actor, Email: "ann@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enrol.URL, "otpauth://totp/") || !strings.Contains(enrol.URL, enrol.Secret) {
		t.Errorf("URL %q", enrol.URL)
	}
	code := func(at time.Time) string {
		c, err := totp.GenerateCode(enrol.Secret, at)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	confirm := commands.NewConfirmTwoFactorHandler(store, clock)
	if _, err := confirm.Handle(ctx, commands.ConfirmTwoFactor{Actor: actor, Code: code(now.Add(-time.Hour))}); domain.ErrorCode(err) != domain.ErrInvalid {
		t.Fatalf("an old code confirmed: %v", err)
	}
	rc, err := confirm.Handle(ctx, commands.ConfirmTwoFactor{Actor: actor, Code: code(now)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rc.Codes) != 10 {
		t.Fatalf("%d recovery codes", len(rc.Codes))
	}

	use := commands.NewUseSecondFactorHandler(store, clock)
	login := func(c string) error {
		_, err := use.Handle(ctx, commands.UseSecondFactor{UserID: res.UserID, AccountID: res.AccountID, Code: c})
		return err
	}
	if err := login(code(now)); domain.ErrorCode(err) != domain.ErrUnauthorized {
		t.Errorf("the confirming code signed in: %v", err)
	}
	// The next step's code (within the skew), raced by eight sign-ins:
	// exactly one gets in.
	next := code(now.Add(30 * time.Second))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- login(next) }()
	}
	wg.Wait()
	close(errs)
	wins := 0
	for err := range errs {
		switch domain.ErrorCode(err) {
		case "":
			wins++
		case domain.ErrUnauthorized:
		default:
			t.Errorf("racing sign-in: %v", err)
		}
	}
	if wins != 1 {
		t.Errorf("%d sign-ins with one code, want 1", wins)
	}
	if err := login(code(now.Add(2 * time.Minute))); domain.ErrorCode(err) != domain.ErrUnauthorized {
		t.Errorf("a code two steps ahead: %v", err)
	}
	if err := login(rc.Codes[3]); err != nil {
		t.Errorf("recovery code: %v", err)
	}
	if err := login(rc.Codes[3]); domain.ErrorCode(err) != domain.ErrUnauthorized {
		t.Errorf("recovery code twice: %v", err)
	}

	var payloads []string
	if err := db.DB.SelectContext(ctx, &payloads, `SELECT data::text FROM events`); err != nil {
		t.Fatal(err)
	}
	log := strings.Join(payloads, "\n")
	if strings.Contains(log, enrol.Secret) {
		t.Error("the TOTP secret is in the log")
	}
	if strings.Contains(log, domain.HashRecoveryCode(rc.Codes[0])) || strings.Contains(log, rc.Codes[0]) {
		t.Error("a recovery code or its hash is in the log")
	}
	if !strings.Contains(log, domain.EnvelopePrefix) {
		t.Error("no sealed value in the log")
	}

	disable := commands.NewDisableTwoFactorHandler(store, clock)
	if _, err := disable.Handle(ctx, commands.DisableTwoFactor{Actor: actor, Password: "wrong password", Code: rc.Codes[0]}); domain.ErrorCode(err) != domain.ErrInvalid {
		t.Errorf("disable with a wrong password: %v", err)
	}
	if _, err := disable.Handle(ctx, commands.DisableTwoFactor{Actor: actor, Password: "correct horse", Code: rc.Codes[0]}); err != nil {
		t.Errorf("disable: %v", err)
	}
	if err := login(rc.Codes[1]); domain.ErrorCode(err) != domain.ErrUnauthorized {
		t.Errorf("a recovery code after disabling: %v", err)
	}
}
