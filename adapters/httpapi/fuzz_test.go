package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/medialuna/medialuna/domain"
)

// The fuzz targets feed arbitrary bytes through what every write endpoint
// does with its body before a command runs: the text check, the JSON
// decoding into the endpoint's shape, and the domain's validation. None may
// panic; whatever passes all three must hold no NUL and must survive the
// log (encode, decode, equal). `go tool task test` runs each for a few
// seconds; the seeds below and testdata/fuzz hold the cases found so far.

var fuzzSeeds = []string{
	`{}`, `null`, `[]`, `""`, `{"name":"a"}`, `{"name":"a\u0000b"}`, `{"name":"\ud800"}`, "{\"name\":\"\xff\"}",
	`{"name":"x","type":"HTTP","url":"https://example.com","check_interval":300,"request_headers":{"A":"b\tc"},"request_body":"l1\nl2"}`,
	`{"name":"x","type":"TCP","url":"example.com:22","port":99999999999999999999}`,
	`{"name":"x","type":"DNS","url":"example.com","dns_record_type":"MX","dns_resolver":"[::1]:53"}`,
	`{"name":"w","start_time":"2026-01-01T00:00:00Z","end_time":"2026-01-01T01:00:00Z","is_recurring":true,"recurrence_pattern":"weekly","recurrence_days":"1,3","time_zone":"Europe/Paris","applies_to_all_monitors":true}`,
	`{"name":"c","channel_type":"WEBHOOK","webhook_url":"https://example.com/hook"}`,
	`{"name":"c","channel_type":"TELEGRAM","telegram_bot_token":"123:abc","telegram_chat_id":"@chan"}`,
	`{"name":"r","channel_ids":[1],"conditions":[{"type":"STATUS","value":"down"},{"type":"RESPONSE_TIME","operator":">","value":"500"}],"renotify_minutes":-1}`,
	`{"title":"t","subdomain":"Status-1","description":"d","custom_css":"a{color:red}","logo_url":"https://example.com/l.png","monitor_ids":[1,1,2]}`,
	`{"email":"A@Example.com","password":"   ","account_name":"x","full_name":"\u001b"}`,
	`{"a":{"b":{"c":[[[[["deep"]]]]]}}}`, `{"name":1e400}`, `{"name":"x"} {}`,
}

func addSeeds(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
}

// accept runs a body through the edge as an endpoint would: the text check
// (as readBody does), then decoding into v. It reports whether both passed,
// and fails the test on an error that is not a client error.
func accept(t *testing.T, data []byte, v any) bool {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(data)))
	body, err := readBody(req)
	if err == nil {
		err = decodeBytes(body, v)
	}
	if err == nil {
		return true
	}
	var reqErr *requestError
	var textErr *bodyTextError
	// A time in no ISO 8601 form is a 422 naming its field (normalizeTimes).
	timeErr := domain.ErrorCode(err) == domain.ErrInvalid
	if !errors.As(err, &reqErr) && !errors.As(err, &textErr) && !timeErr {
		t.Fatalf("%q: not a client error: %T %v", data, err, err)
	}
	return false
}

// clientError fails unless err is nil or a domain error that maps to a 4xx.
func clientError(t *testing.T, data []byte, err error) bool {
	t.Helper()
	if err == nil {
		return false
	}
	if status := statusOf(domain.ErrorCode(err)); status >= 500 {
		t.Fatalf("%q: validation answered %d: %v", data, status, err)
	}
	return true
}

// storable fails when a value that passed the edge holds a NUL, or does
// not come back unchanged from the log's encoding.
func storable[T any](t *testing.T, data []byte, v T) {
	t.Helper()
	enc, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("%q: encode: %v", data, err)
	}
	if strings.Contains(string(enc), `\u0000`) {
		t.Fatalf("%q: passed the edge with a NUL: %s", data, enc)
	}
	var back T
	if err := json.Unmarshal(domain.ScrubNUL(enc), &back); err != nil {
		t.Fatalf("%q: decode: %v", data, err)
	}
	again, _ := json.Marshal(back)
	if string(again) != string(enc) {
		t.Fatalf("%q: changed in the log:\n%s\n%s", data, enc, again)
	}
}

func FuzzBodyText(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		err := checkBodyText(data)
		if err != nil || !json.Valid(data) {
			return
		}
		var v any
		if json.Unmarshal(data, &v) != nil {
			return
		}
		enc, _ := json.Marshal(v)
		if strings.Contains(string(enc), `\u0000`) {
			t.Fatalf("%q passed the text check with a NUL", data)
		}
	})
}

func FuzzMonitorBody(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := domain.DefaultMonitorConfig()
		if !accept(t, data, &cfg) {
			return
		}
		limits, _ := domain.LimitsOf(domain.PlanEnterprise)
		rules := domain.MonitorRules{Limits: limits, ActiveRegions: map[int64]bool{1: true, 2: true},
			AccountTags: map[int64]bool{1: true}, AccountMonitors: map[int64]bool{1: true, 2: true}}
		if clientError(t, data, cfg.Validate(rules)) {
			return
		}
		storable(t, data, domain.MonitorCreated{MonitorID: 3, AccountID: 1, Config: cfg})
	})
}

func FuzzMaintenanceBody(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := domain.MaintenanceConfig{IsActive: true, MonitorIDs: []int64{}}
		if !accept(t, data, &cfg) {
			return
		}
		if clientError(t, data, cfg.Validate(time.LoadLocation, func(id int64) bool { return id == 1 })) {
			return
		}
		storable(t, data, domain.MaintenanceScheduled{WindowID: 1, AccountID: 1, Config: cfg})
	})
}

func FuzzChannelBody(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := domain.ChannelConfig{Enabled: true}
		if !accept(t, data, &cfg) {
			return
		}
		if clientError(t, data, cfg.Validate()) {
			return
		}
		storable(t, data, domain.ChannelCreated{ChannelID: 1, AccountID: 1, Config: cfg})
	})
}

func FuzzRuleBody(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := domain.RuleConfig{Enabled: true, ConsecutiveChecks: 1}
		if !accept(t, data, &cfg) {
			return
		}
		own := func(id int64) bool { return id == 1 }
		if clientError(t, data, cfg.Validate(own, own)) {
			return
		}
		storable(t, data, domain.RuleCreated{RuleID: 1, AccountID: 1, Config: cfg})
	})
}

func FuzzStatusPageBody(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := domain.StatusPageConfig{IsPublic: true, MonitorIDs: []int64{}}
		if !accept(t, data, &cfg) {
			return
		}
		if clientError(t, data, cfg.Validate(func(id int64) bool { return id < 3 })) {
			return
		}
		storable(t, data, domain.StatusPageCreated{PageID: 1, AccountID: 1, Config: cfg})
	})
}

func FuzzSignupBody(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var body struct {
			Email       string `json:"email"`
			Password    string `json:"password"`
			AccountName string `json:"account_name"`
			FullName    string `json:"full_name"`
		}
		if !accept(t, data, &body) {
			return
		}
		email, err := domain.NormalizeEmail(body.Email)
		if clientError(t, data, err) || clientError(t, data, domain.ValidatePassword(body.Password)) {
			return
		}
		storable(t, data, domain.UserRegistered{UserID: 1, AccountID: 1, Email: email, FullName: body.FullName})
		storable(t, data, domain.AccountOpened{AccountID: 1, Name: body.AccountName, Plan: domain.PlanFree})
	})
}
