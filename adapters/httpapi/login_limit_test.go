package httpapi_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medialuna/medialuna/adapters/httpapi"
)

// TestFailedLoginsLockTheEmailAddress: three failed logins for one email
// address, each from another client address and alternating between two
// replicas, refuse its fourth login, even with the right password, with
// 429 and Retry-After, until the window ends. Another address is
// unaffected, and a successful login clears the count.
func TestFailedLoginsLockTheEmailAddress(t *testing.T) {
	a := newAPI(t, 2, func(d *httpapi.Deps) {
		d.TrustProxyHeaders, d.LoginFailuresPerWindow, d.LoginFailureWindow = true, 3, 10*time.Minute
	})
	a.signup("victim@example.com")
	a.signup("bystander@example.com")
	client := 0
	login := func(email, password string) reply {
		t.Helper()
		client++
		req, _ := http.NewRequest("POST", a.urls[client%2]+"/api/auth/login",
			strings.NewReader(`{"email": "`+email+`", "password": "`+password+`"}`))
		req.Header.Set("X-Forwarded-For", "198.51.100."+strconv.Itoa(client))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		n, _ := resp.Body.Read(buf)
		b.Write(buf[:n])
		return reply{status: resp.StatusCode, header: resp.Header, body: b.String()}
	}
	for i := range 3 {
		if r := login("Victim@Example.com", "wrong password"); r.status != 401 {
			t.Fatalf("failed login %d: %d %s", i+1, r.status, r.body)
		}
	}
	r := login("victim@example.com", "long enough")
	if r.status != 429 || !strings.Contains(r.body, "too many failed logins") {
		t.Fatalf("login after 3 failures: %d %s", r.status, r.body)
	}
	if retry, _ := strconv.Atoi(r.header.Get("Retry-After")); retry < 590 || retry > 600 {
		t.Errorf("Retry-After %q, want about 600 s", r.header.Get("Retry-After"))
	}
	// Another email address is not touched; its success clears its count.
	for _, c := range []struct {
		password string
		want     int
	}{{"wrong password", 401}, {"wrong password", 401}, {"long enough", 200}, {"wrong password", 401}, {"wrong password", 401}, {"long enough", 200}} {
		if r := login("bystander@example.com", c.password); r.status != c.want {
			t.Errorf("bystander with %q: %d, want %d (%s)", c.password, r.status, c.want, r.body)
		}
	}
	// Unknown addresses are limited alike, so the 429 reveals nothing.
	for range 3 {
		login("nobody@example.com", "wrong password")
	}
	if r := login("nobody@example.com", "wrong password"); r.status != 429 {
		t.Errorf("unknown address after 3 failures: %d", r.status)
	}
	a.clock.Advance(10*time.Minute + time.Second)
	if r := login("victim@example.com", "long enough"); r.status != 200 {
		t.Errorf("after the window: %d %s", r.status, r.body)
	}
}
