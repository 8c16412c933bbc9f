package secretbox_test

import (
	"context"
	"strings"
	"testing"

	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/adapters/secretbox"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/test/testdb"
)

const key1 = "test-master-key-0123456789abcdef0123456789"

func newBox(t testing.TB, db *testdb.DB, secret string) *secretbox.Box {
	t.Helper()
	m, err := secretbox.NewMaster(secret)
	if err != nil {
		t.Fatal(err)
	}
	return secretbox.New(m, postgres.NewStreamKeys(db.DB))
}

// TestSealOpenForget: an envelope opens in its own stream only, through a
// fresh box (the key is in the database, not only in memory), not under
// another master key, and never again once the stream's key is destroyed.
func TestSealOpenForget(t *testing.T) {
	ctx := context.Background()
	db := testdb.New(t)
	box := newBox(t, db, key1)
	env, err := box.Seal(ctx, "channel-1", "whsec_abc")
	if err != nil {
		t.Fatal(err)
	}
	if !domain.IsEnvelope(env) || strings.Contains(env, "whsec_abc") {
		t.Fatalf("envelope %q", env)
	}
	again, _ := box.Seal(ctx, "channel-1", "whsec_abc")
	if again == env {
		t.Errorf("two seals of one value are equal: the nonce is not random")
	}
	if got, ok, err := newBox(t, db, key1).Open(ctx, "channel-1", env); err != nil || !ok || got != "whsec_abc" {
		t.Errorf("open = %q %v %v", got, ok, err)
	}
	if _, err := box.Seal(ctx, "channel-2", "other"); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := box.Open(ctx, "channel-2", env); err != nil || ok || got != env {
		t.Errorf("an envelope moved to another stream opened: %q %v %v", got, ok, err)
	}
	if got, ok, _ := box.Open(ctx, "channel-1", "plain old value"); !ok || got != "plain old value" {
		t.Errorf("a value written before sealing reads back as %q", got)
	}
	if err := newBox(t, db, "another-master-key-0123456789abcdef0123").Check(ctx); err == nil {
		t.Errorf("a different master key passed the check")
	}
	if _, _, err := newBox(t, db, "another-master-key-0123456789abcdef0123").Open(ctx, "channel-1", env); err == nil {
		t.Errorf("a different master key unwrapped the data key")
	}
	if err := box.Forget(ctx, "channel-1"); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string]*secretbox.Box{"the same box": box, "a fresh box": newBox(t, db, key1)} {
		if got, ok, err := b.Open(ctx, "channel-1", env); err != nil || ok || got != env {
			t.Errorf("%s opened a destroyed stream's envelope: %q %v %v", name, got, ok, err)
		}
	}
	if _, err := secretbox.NewMaster("short"); err == nil {
		t.Errorf("a short master key was accepted")
	}
}
