package processes_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TestDispatcherSurvivesLostConnections: while a channel's notifications
// are being sent, every database connection of the server side is
// terminated (the lock connection among them). The dispatcher stops the
// drain whose lock went away, takes the channel again, and every
// notification is delivered, with exactly one recorded outcome each.
func TestDispatcherSurvivesLostConnections(t *testing.T) {
	d := newDispatchBench(t)
	var mu sync.Mutex
	seen := map[string]int{}
	first := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		seen[r.Header.Get("X-Media-Luna-Delivery")]++
		mu.Unlock()
		select {
		case first <- struct{}{}:
		default:
		}
		time.Sleep(50 * time.Millisecond)
	}))
	t.Cleanup(srv.Close)
	d.channel(t, 1, srv.URL)
	const n = 20
	d.queue(t, 1, n)
	<-first
	var killed int
	if err := d.db.Get(&killed, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	if killed == 0 {
		t.Fatal("no connection was terminated; the test proves nothing")
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		var done int
		err := d.db.Get(&done, `SELECT count(*) FROM notification_deliveries WHERE status = 'delivered'`)
		if err == nil && done == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d delivered after the connections were cut (err %v)", done, n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var outcomes int
	if err := d.db.Get(&outcomes, `SELECT count(*) FROM events WHERE event_type = 'NotificationAttempted'`); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if outcomes != n || len(seen) != n {
		t.Fatalf("%d outcomes recorded and %d distinct deliveries received, want %d each", outcomes, len(seen), n)
	}
	resent := 0
	for _, c := range seen {
		resent += c - 1
	}
	t.Logf("killed %d connections; %d notifications were sent again (at least once)", killed, resent)
}
