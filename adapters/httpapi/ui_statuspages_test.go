package httpapi

import (
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// TestPostedPageFieldsOrder: the ticked monitors follow the positions
// typed beside them; those without one, or with the same one, keep the
// form's order and come after; unticked positions are ignored.
func TestPostedPageFieldsOrder(t *testing.T) {
	for _, c := range []struct {
		name string
		form url.Values
		want []int64
	}{
		{"form order", url.Values{"monitor_ids": {"3", "1", "2"}}, []int64{3, 1, 2}},
		{"by position", url.Values{"monitor_ids": {"3", "1", "2"}, "pos-3": {"3"}, "pos-1": {"1"}, "pos-2": {"2"}}, []int64{1, 2, 3}},
		{"blank last", url.Values{"monitor_ids": {"3", "1", "2"}, "pos-2": {"1"}, "pos-3": {""}, "pos-1": {"x"}}, []int64{2, 3, 1}},
		{"ties keep order", url.Values{"monitor_ids": {"5", "4"}, "pos-5": {"1"}, "pos-4": {"1"}}, []int64{5, 4}},
		{"unticked ignored", url.Values{"monitor_ids": {"7"}, "pos-8": {"1"}}, []int64{7}},
		{"duplicates and junk", url.Values{"monitor_ids": {"7", "7", "-1", "abc"}}, []int64{7}},
		{"none", url.Values{}, nil},
	} {
		if got := postedPageFields(c.form).Order; !cmp.Equal(got, c.want) {
			t.Errorf("%s: order %v, want %v", c.name, got, c.want)
		}
	}
	f := postedPageFields(url.Values{"title": {" T "}, "subdomain": {" acme "}, "description": {"  "}, "logo_url": {""}, "custom_css": {"a{}"},
		"is_public": {"false", "true"}, "monitor_ids": {"2"}})
	cfg := f.config(domain.StatusPageConfig{})
	css := "a{}"
	if want := (domain.StatusPageConfig{Title: "T", Subdomain: "acme", CustomCSS: &css, MonitorIDs: []int64{2}, IsPublic: true}); !cmp.Equal(cfg, want) {
		t.Errorf("config: %s", cmp.Diff(want, cfg))
	}
}

// TestPreviewPage: the frame's address carries the form's values back
// (monitors in order), and the page previewed is the viewer's account's,
// with a logo URL the command would refuse and a bad subdomain left out.
func TestPreviewPage(t *testing.T) {
	v := &viewer{principal: principal{AccountID: 7}}
	f := pageFields{Title: `"><script>x</script>`, Subdomain: "Acme", Description: "d", LogoURL: "javascript:alert(1)",
		CustomCSS: "h1{color:red}", IsPublic: false, Order: []int64{3, 1, 2}}
	u, err := url.Parse(previewURL(f))
	if err != nil || u.Path != "/status-pages/preview/page" {
		t.Fatalf("preview URL %v: %v", u, err)
	}
	got := previewPage(v, postedPageFields(u.Query()))
	css, desc := "h1{color:red}", "d"
	want := projections.StatusPageView{AccountID: 7, StatusPageConfig: domain.StatusPageConfig{Title: f.Title, Subdomain: "acme",
		Description: &desc, CustomCSS: &css, MonitorIDs: []int64{3, 1, 2}}}
	if !cmp.Equal(got, want) {
		t.Errorf("preview page: %s", cmp.Diff(want, got))
	}
	f.LogoURL, f.Subdomain = " https://127.0.0.1:8080/logo.png ", "-bad"
	got = previewPage(v, f)
	if got.LogoURL == nil || *got.LogoURL != "https://127.0.0.1:8080/logo.png" || got.Subdomain != "" {
		t.Errorf("logo %v, subdomain %q", got.LogoURL, got.Subdomain)
	}
}
