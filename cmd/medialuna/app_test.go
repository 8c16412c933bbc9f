package main

import (
	"slices"
	"testing"
)

// Every read model says whether writes wait for it; the set that does is
// the one writes have always waited for (every model but the metrics).
func TestWritesWaitForTheReadModelsThatSayTheySettleThem(t *testing.T) {
	got := settling(readModels())
	want := []string{"accounts", "api_keys", "monitors", "incidents", "maintenance", "notifications", "billing", "status_pages"}
	if !slices.Equal(got, want) {
		t.Errorf("writes wait for %v, want %v", got, want)
	}
	for _, m := range readModels() {
		if m.Name() == "metrics" && m.SettlesWrites() {
			t.Error("writes wait for the metrics model, which may trail under check load")
		}
	}
}
