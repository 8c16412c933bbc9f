package httpapi

import (
	"testing"

	"github.com/medialuna/medialuna/domain"
)

// TestProviderLink: the account page hands the browser only to an
// absolute https address from the billing commands.
func TestProviderLink(t *testing.T) {
	for link, ok := range map[string]bool{
		"https://checkout.stripe.com/c/pay/cs_test_1#fid": true,
		"https://billing.stripe.com/p/session/bps_1":      true,
		"http://checkout.stripe.com/c/pay/cs_test_1":      false,
		"javascript:alert(1)":                             false,
		"//evil.example/":                                 false,
		"/settings/account":                               false,
		"https://user:pw@evil.example/":                   false,
		"https:///no-host":                                false,
		"":                                                false,
	} {
		got, err := providerLink(link)
		if ok && (err != nil || got != link) {
			t.Errorf("%q: %q %v, want it as it is", link, got, err)
		}
		if !ok && domain.ErrorCode(err) != domain.ErrUpstream {
			t.Errorf("%q: %q %v, want an upstream error", link, got, err)
		}
	}
}
