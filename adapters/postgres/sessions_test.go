package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/test/testdb"
)

// TestSessions: a session is found by its hash until it has been idle too
// long, each use slides its expiry (at most one write a minute), and
// ending one, all of a user's but one, or the expired ones leaves the rest.
func TestSessions(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	store := postgres.NewSessions(db.DB, func() time.Time { return now })
	const idle = time.Hour
	for _, s := range []struct {
		hash          string
		user, account int64
	}{{"a", 1, 10}, {"b", 1, 10}, {"c", 2, 10}} {
		if err := store.Create(ctx, s.hash, s.user, s.account, idle); err != nil {
			t.Fatal(err)
		}
	}
	lookup := func(hash string) (int64, int64, string) {
		u, a, err := store.Lookup(ctx, hash, idle)
		return u, a, domain.ErrorCode(err)
	}
	if u, a, code := lookup("a"); u != 1 || a != 10 || code != "" {
		t.Errorf("lookup a = %d %d %q", u, a, code)
	}
	if _, _, code := lookup("nope"); code != domain.ErrNotFound {
		t.Errorf("unknown session: %q", code)
	}
	// Used 50 minutes in, "a" and "c" last until 50 min + idle; "b" is not used.
	now = now.Add(50 * time.Minute)
	lookup("a")
	lookup("c")
	now = now.Add(20 * time.Minute) // 70 min: b has been idle past its hour
	if _, _, code := lookup("b"); code != domain.ErrNotFound {
		t.Errorf("idle session b still valid: %q", code)
	}
	if _, _, code := lookup("a"); code != "" {
		t.Errorf("used session a expired: %q", code)
	}
	if err := store.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	var left int
	db.Get(&left, `SELECT count(*) FROM web_sessions WHERE id_hash = 'b'`)
	if left != 0 {
		t.Errorf("prune left the expired session")
	}
	// A password change ends the user's other sessions.
	store.Create(ctx, "a2", 1, 10, idle)
	if err := store.DeleteUser(ctx, 1, "a"); err != nil {
		t.Fatal(err)
	}
	if _, _, code := lookup("a2"); code != domain.ErrNotFound {
		t.Errorf("DeleteUser kept a2: %q", code)
	}
	if _, _, code := lookup("a"); code != "" {
		t.Errorf("DeleteUser ended the kept session: %q", code)
	}
	if err := store.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, _, code := lookup("a"); code != domain.ErrNotFound {
		t.Errorf("Delete kept a: %q", code)
	}
	if _, _, code := lookup("c"); code != "" {
		t.Errorf("another user's session was ended: %q", code)
	}
}
