// Package stripefake is a local HTTP server speaking the part of Stripe's
// wire format Media Luna uses (form-encoded POSTs with Bearer auth,
// JSON objects and errors shaped like Stripe's), plus Stripe-shaped webhook
// events and an independent implementation of Stripe's webhook signature,
// for tests. It records every request so tests can check their shape.
package stripefake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// APIVersion is the API version events are rendered with: the release
// train of the stripe-go version Media Luna uses.
const APIVersion = "2025-08-27.basil"

// Request is one request the fake received.
type Request struct {
	Method         string
	Path           string
	Authorization  string
	ContentType    string
	IdempotencyKey string
	StripeVersion  string
	Form           url.Values
}

// Server is a fake Stripe API.
type Server struct {
	URL string
	Key string // the secret key it accepts

	mu        sync.Mutex
	requests  []Request
	n         int
	customers map[string]string // idempotency key -> customer id
}

// Start runs a fake accepting secret key key until the test ends.
func Start(t testing.TB, key string) *Server {
	s := &Server{Key: key, customers: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Requests returns what the fake received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// RequestsTo returns the requests to path.
func (s *Server) RequestsTo(path string) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

func stripeError(w http.ResponseWriter, status int, typ, msg, param string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"type": typ, "message": msg, "param": param}})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	req := Request{Method: r.Method, Path: r.URL.Path, Authorization: r.Header.Get("Authorization"), ContentType: r.Header.Get("Content-Type"),
		IdempotencyKey: r.Header.Get("Idempotency-Key"), StripeVersion: r.Header.Get("Stripe-Version"), Form: form}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.n++
	n := s.n
	s.mu.Unlock()

	if req.Authorization != "Bearer "+s.Key {
		stripeError(w, 401, "invalid_request_error", "Invalid API Key provided: "+mask(strings.TrimPrefix(req.Authorization, "Bearer ")), "")
		return
	}
	if r.Method != http.MethodPost || !strings.HasPrefix(req.ContentType, "application/x-www-form-urlencoded") {
		stripeError(w, 400, "invalid_request_error", "expected a form-encoded POST", "")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Request-Id", fmt.Sprintf("req_%d", n))
	switch r.URL.Path {
	case "/v1/customers":
		s.mu.Lock()
		id, seen := s.customers[req.IdempotencyKey]
		if !seen || req.IdempotencyKey == "" {
			id = fmt.Sprintf("cus_test%d", n)
			if req.IdempotencyKey != "" {
				s.customers[req.IdempotencyKey] = id
			}
		}
		s.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"id": id, "object": "customer", "email": form.Get("email"), "name": form.Get("name"),
			"metadata": map[string]string{"account_id": form.Get("metadata[account_id]")}, "livemode": false, "created": time.Now().Unix()})
	case "/v1/checkout/sessions":
		for _, f := range []string{"mode", "customer", "line_items[0][price]", "success_url"} {
			if form.Get(f) == "" {
				stripeError(w, 400, "invalid_request_error", "Missing required param: "+f+".", f)
				return
			}
		}
		if price := form.Get("line_items[0][price]"); strings.HasPrefix(price, "price_missing") {
			stripeError(w, 400, "invalid_request_error", "No such price: '"+price+"'", "line_items[0][price]")
			return
		}
		id := fmt.Sprintf("cs_test_%d", n)
		json.NewEncoder(w).Encode(map[string]any{"id": id, "object": "checkout.session", "mode": form.Get("mode"), "customer": form.Get("customer"),
			"client_reference_id": form.Get("client_reference_id"), "status": "open", "payment_status": "unpaid",
			"success_url": form.Get("success_url"), "cancel_url": form.Get("cancel_url"),
			"url": "https://checkout.stripe.test/c/pay/" + id, "livemode": false, "created": time.Now().Unix()})
	case "/v1/billing_portal/sessions":
		if form.Get("customer") == "" {
			stripeError(w, 400, "invalid_request_error", "Missing required param: customer.", "customer")
			return
		}
		id := fmt.Sprintf("bps_test_%d", n)
		json.NewEncoder(w).Encode(map[string]any{"id": id, "object": "billing_portal.session", "customer": form.Get("customer"),
			"return_url": form.Get("return_url"), "url": "https://billing.stripe.test/p/session/" + id, "livemode": false, "created": time.Now().Unix()})
	default:
		stripeError(w, 404, "invalid_request_error", "Unrecognized request URL (POST: "+r.URL.Path+").", "")
	}
}

func mask(key string) string {
	if len(key) <= 4 {
		return "****"
	}
	return key[:min(8, len(key)-4)] + "****" + key[len(key)-4:]
}

// Sign returns a Stripe-Signature header for payload at time t, computed
// as Stripe documents it: v1 is the hex HMAC-SHA256, keyed with the whole
// signing secret, of "<unix t>.<payload>".
func Sign(secret string, payload []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + string(payload)))
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Subscription is what a subscription event carries.
type Subscription struct {
	ID                string
	Customer          string
	Status            string
	Price             string
	PeriodStart       time.Time
	PeriodEnd         time.Time
	TrialEnd          time.Time
	CancelAtPeriodEnd bool
	Metadata          map[string]string
}

// Event renders a Stripe event of type typ with id and created around
// object, as Stripe's webhooks deliver it.
func Event(id, typ string, created time.Time, object map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"id": id, "object": "event", "api_version": APIVersion, "created": created.Unix(),
		"type": typ, "livemode": false, "pending_webhooks": 1, "request": map[string]any{"id": nil, "idempotency_key": nil},
		"data": map[string]any{"object": object}})
	return b
}

func unixOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Unix()
}

// SubscriptionObject renders a subscription the way API version basil
// does: the billing period lives on the subscription's items.
func SubscriptionObject(s Subscription) map[string]any {
	meta := s.Metadata
	if meta == nil {
		meta = map[string]string{}
	}
	return map[string]any{"id": s.ID, "object": "subscription", "customer": s.Customer, "status": s.Status,
		"cancel_at_period_end": s.CancelAtPeriodEnd, "cancel_at": nil, "canceled_at": nil, "trial_end": unixOrNull(s.TrialEnd),
		"metadata": meta, "livemode": false, "created": s.PeriodStart.Unix(),
		"items": map[string]any{"object": "list", "has_more": false, "url": "/v1/subscription_items?subscription=" + s.ID,
			"data": []any{map[string]any{"id": "si_" + s.ID, "object": "subscription_item", "quantity": 1, "subscription": s.ID,
				"current_period_start": s.PeriodStart.Unix(), "current_period_end": s.PeriodEnd.Unix(),
				"price": map[string]any{"id": s.Price, "object": "price", "active": true, "currency": "usd", "unit_amount": 1900,
					"recurring": map[string]any{"interval": "month", "interval_count": 1}}}}}}
}

// CheckoutObject renders a completed subscription-mode Checkout Session.
func CheckoutObject(id, customer, subscription, accountID, plan, paymentStatus string) map[string]any {
	return map[string]any{"id": id, "object": "checkout.session", "mode": "subscription", "status": "complete",
		"payment_status": paymentStatus, "customer": customer, "subscription": subscription, "client_reference_id": accountID,
		"metadata": map[string]string{"account_id": accountID, "plan": plan}, "livemode": false}
}

// InvoiceObject renders an invoice of a subscription, as basil does
// (the subscription under parent.subscription_details).
func InvoiceObject(id, customer, subscription string) map[string]any {
	return map[string]any{"id": id, "object": "invoice", "customer": customer, "status": "open", "attempt_count": 1,
		"parent": map[string]any{"type": "subscription_details", "subscription_details": map[string]any{"subscription": subscription, "metadata": map[string]string{}}}}
}
