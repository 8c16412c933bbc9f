package secretbox_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

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

// TestDeletedKeyStopsOpeningOnOtherReplicas: a replica that has the key in
// memory stops opening a stream's envelopes within keyCacheTTL of another
// replica destroying it.
func TestDeletedKeyStopsOpeningOnOtherReplicas(t *testing.T) {
	ctx := context.Background()
	db := testdb.New(t)
	here, there := newBox(t, db, key1), newBox(t, db, key1)
	clock := time.Now()
	secretbox.SetClock(there, func() time.Time { return clock })
	env, err := here.Seal(ctx, "channel-7", "xoxb-secret")
	if err != nil {
		t.Fatal(err)
	}
	if plain, ok, err := there.Open(ctx, "channel-7", env); err != nil || !ok || plain != "xoxb-secret" {
		t.Fatalf("open on the other replica: %q %v %v", plain, ok, err)
	}
	if err := here.Forget(ctx, "channel-7"); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(2 * time.Minute)
	if plain, ok, err := there.Open(ctx, "channel-7", env); err != nil || ok || plain == "xoxb-secret" {
		t.Errorf("two minutes after the delete the other replica still opens it: %q %v %v", plain, ok, err)
	}
}

// TestUndecodableEventsPassThrough: an event this build cannot decode (a
// malformed payload, or a version from a newer build) reaches readers as
// stored, so the projector that decodes it parks it; it never stops a read
// of the log.
func TestUndecodableEventsPassThrough(t *testing.T) {
	ctx := context.Background()
	db := testdb.New(t)
	inner := postgres.NewEventStore(db.DB, db.URL, testdb.Logger(t))
	t.Cleanup(func() { inner.Close() })
	store := secretbox.NewStore(inner, newBox(t, db, key1), testdb.Logger(t))
	for i, d := range []domain.EventData{
		{ID: uuid.NewString(), Type: "MonitorCreated", Version: 1, Data: []byte(`{"config":"not an object"}`)},
		{ID: uuid.NewString(), Type: "NotificationChannelCreated", Version: 99, Data: []byte(`{"config":{"webhook_url":"https://example.com"}}`)},
	} {
		if _, err := inner.Append(ctx, fmt.Sprintf("monitor-%d", i+1), domain.NoStream, d); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := store.ReadAll(ctx, domain.Position{}, 10)
	if err != nil || len(recs) != 2 {
		t.Fatalf("read %d events, err %v; want both, as stored", len(recs), err)
	}
	if string(recs[0].Data) != `{"config":"not an object"}` {
		t.Errorf("payload changed: %s", recs[0].Data)
	}
}
