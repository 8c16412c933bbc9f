package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/test/testdb"
)

// TestAPIKeyUse: a key's last use is written once, then not again until a
// minute has passed since the recorded one; keys are independent; two
// recorders (two replicas) share the throttle through the row.
func TestAPIKeyUse(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	use, replica := postgres.NewAPIKeyUse(db.DB), postgres.NewAPIKeyUse(db.DB)
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	last := func(key int64) time.Time {
		t.Helper()
		var v time.Time
		if err := db.Get(&v, `SELECT last_used_at FROM api_key_use WHERE key_id = $1`, key); err != nil {
			t.Fatal(err)
		}
		return v.UTC()
	}
	for _, step := range []struct {
		key  int64
		at   time.Time
		want time.Time
	}{
		{1, at, at},
		{1, at.Add(30 * time.Second), at},                          // within the minute: no write
		{1, at.Add(60 * time.Second), at},                          // exactly a minute: still none
		{1, at.Add(61 * time.Second), at.Add(61 * time.Second)},    // past it: recorded
		{2, at.Add(10 * time.Second), at.Add(10 * time.Second)},    // another key
		{1, at.Add(-time.Hour), at.Add(61 * time.Second)},          // an older use never goes back
		{-1, at.Add(90 * time.Second), at.Add(61 * time.Second)},   // the other replica, within the minute
		{-1, at.Add(122 * time.Second), at.Add(122 * time.Second)}, // the other replica, past it
	} {
		rec := use
		if step.key < 0 {
			rec, step.key = replica, -step.key
		}
		if err := rec.Touch(ctx, step.key, step.at); err != nil {
			t.Fatal(err)
		}
		if got := last(step.key); !got.Equal(step.want) {
			t.Errorf("key %d touched at %s: last use %s, want %s", step.key, step.at, got, step.want)
		}
	}
	// Within the minute a recorder does not even ask the database: a
	// row deleted behind its back stays deleted until the minute is over.
	if err := use.Touch(ctx, 3, at); err != nil {
		t.Fatal(err)
	}
	db.MustExec(`DELETE FROM api_key_use WHERE key_id = 3`)
	if err := use.Touch(ctx, 3, at.Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM api_key_use WHERE key_id = 3`); err != nil || n != 0 {
		t.Errorf("a use within the minute reached the database (%d rows, %v)", n, err)
	}
	if err := use.Touch(ctx, 3, at.Add(61*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := last(3); !got.Equal(at.Add(61 * time.Second)) {
		t.Errorf("after the minute: %s", got)
	}
}
