package browser

import (
	"strings"
	"testing"
)

// fakeTB records Skip and Fatal instead of stopping the goroutine.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

func (f *fakeTB) Helper()             {}
func (f *fakeTB) Skip(args ...any)    { f.skipped = args[0].(string) }
func (f *fakeTB) Fatal(args ...any)   { f.failed = args[0].(string) }
func (f *fakeTB) Logf(string, ...any) {}

func TestNoChromiumSkipsLocallyAndFailsUnderCI(t *testing.T) {
	local := &fakeTB{TB: t}
	noChromium(local, "")
	if local.skipped == "" || local.failed != "" {
		t.Errorf("without CI: skipped=%q failed=%q, want a skip", local.skipped, local.failed)
	}
	ci := &fakeTB{TB: t}
	noChromium(ci, "true")
	if ci.failed == "" || ci.skipped != "" {
		t.Errorf("under CI: skipped=%q failed=%q, want a failure", ci.skipped, ci.failed)
	}
	if !strings.Contains(ci.failed, "ensure-chromium.sh") {
		t.Errorf("the message should say how to get Chromium: %q", ci.failed)
	}
}
