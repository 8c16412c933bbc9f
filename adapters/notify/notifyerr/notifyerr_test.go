package notifyerr_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/adapters/notify/notifyerr"
)

func TestFromStatusClassifies(t *testing.T) {
	tests := []struct {
		status    int
		permanent bool
	}{
		{400, true}, {401, true}, {403, true}, {404, true}, {410, true}, {422, true},
		{408, false}, {429, false},
		{500, false}, {502, false}, {503, false}, {504, false},
		{301, true}, {302, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			err := notifyerr.FromStatus("svc", tt.status, []byte(" the reason \n"))
			if got := notifyerr.IsPermanent(err); got != tt.permanent {
				t.Errorf("permanent = %v, want %v", got, tt.permanent)
			}
			var e *notifyerr.Error
			if !errors.As(err, &e) || e.Status != tt.status {
				t.Errorf("status not kept: %#v", err)
			}
			if !strings.HasPrefix(err.Error(), fmt.Sprintf("svc answered HTTP %d", tt.status)) || !strings.HasSuffix(err.Error(), ": the reason") {
				t.Errorf("message = %q", err.Error())
			}
		})
	}
}

func TestExcerptCutsAtThreeHundredBytesOnACharacterBoundary(t *testing.T) {
	body := strings.Repeat("a", 299) + "ñ" + strings.Repeat("b", 500) // ñ straddles byte 300
	got := notifyerr.Excerpt([]byte(body))
	if want := strings.Repeat("a", 299) + "..."; got != want {
		t.Errorf("excerpt = %q, want %q", got, want)
	}
	if got := notifyerr.Excerpt([]byte("short")); got != "short" {
		t.Errorf("excerpt = %q", got)
	}
}

func TestPermanentAndTemporary(t *testing.T) {
	if notifyerr.Permanent(nil) != nil || notifyerr.Temporary(nil) != nil {
		t.Error("nil must stay nil")
	}
	base := errors.New("boom")
	if err := notifyerr.Permanent(base); !notifyerr.IsPermanent(err) || !errors.Is(err, base) {
		t.Errorf("Permanent: %v", err)
	}
	if err := notifyerr.Temporary(base); notifyerr.IsPermanent(err) || !errors.Is(err, base) {
		t.Errorf("Temporary: %v", err)
	}
	// Re-marking an HTTP error keeps its status.
	var e *notifyerr.Error
	if err := notifyerr.Temporary(notifyerr.FromStatus("svc", 400, nil)); !errors.As(err, &e) || e.Status != 400 || notifyerr.IsPermanent(err) {
		t.Errorf("re-marked: %#v", err)
	}
}

func TestRedactHidesSecretsButKeepsTheCause(t *testing.T) {
	const token = "123456:SECRET-token"
	inner := &url.Error{Op: "Post", URL: "https://api.example/bot" + token + "/send", Err: context.DeadlineExceeded}
	err := notifyerr.Redact(notifyerr.Temporary(fmt.Errorf("svc: %w", inner)), token)

	if d := cmp.Diff("svc: Post \"https://api.example/bot[REDACTED]/send\": context deadline exceeded", err.Error()); d != "" {
		t.Errorf("message (-want +got):\n%s", d)
	}
	if notifyerr.IsPermanent(err) {
		t.Error("redaction made the error permanent")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Error("cause lost")
	}
	var ue *url.Error
	if errors.As(err, &ue) && strings.Contains(ue.URL, token) {
		t.Errorf("url.Error with the token still reachable: %v", ue.URL)
	}
	perm := notifyerr.Redact(notifyerr.FromStatus("svc", 401, []byte("bad token "+token)), token)
	var e *notifyerr.Error
	if !notifyerr.IsPermanent(perm) || !errors.As(perm, &e) || e.Status != 401 || strings.Contains(perm.Error(), token) {
		t.Errorf("redacted status error: %#v %q", perm, perm)
	}
	if notifyerr.Redact(nil, token) != nil {
		t.Error("nil must stay nil")
	}
}

func TestTransportKeepsAPermanentCause(t *testing.T) {
	if notifyerr.IsPermanent(notifyerr.Transport(errors.New("connection refused"))) {
		t.Error("a plain transport error must be retried")
	}
	refused := fmt.Errorf("dial: %w", notifyerr.Permanent(errors.New("private address")))
	if !notifyerr.IsPermanent(notifyerr.Transport(refused)) {
		t.Error("a permanent cause under a transport error must stay permanent")
	}
}
