package httpapi

import (
	"html/template"
	"strings"
	"testing"

	"github.com/medialuna/medialuna/domain"
)

// TestUISnoozeChoices: the form offers durations from the domain's
// shortest snooze to its longest, in order, each said in words.
func TestUISnoozeChoices(t *testing.T) {
	choices := uiSnoozeChoices()
	if len(choices) < 2 || choices[0].Minutes != domain.MinSnoozeMinutes || choices[len(choices)-1].Minutes != domain.MaxSnoozeMinutes {
		t.Fatalf("choices %v do not run from %d to %d minutes", choices, domain.MinSnoozeMinutes, domain.MaxSnoozeMinutes)
	}
	for i := 1; i < len(choices); i++ {
		if choices[i].Minutes <= choices[i-1].Minutes {
			t.Errorf("choices out of order: %v", choices)
		}
	}
	for minutes, want := range map[int]string{5: "5 minutes", 1: "1 minute", 60: "1 hour", 120: "2 hours", 1440: "1 day", 10080: "7 days", 90: "90 minutes"} {
		if got := uiSnoozeLabel(minutes); got != want {
			t.Errorf("uiSnoozeLabel(%d) = %q, want %q", minutes, got, want)
		}
	}
}

// TestUIErrorSummary: the summary at a form's top announces the form's
// message and links each field's error to the field, named by its label;
// hostile messages stay text.
func TestUIErrorSummary(t *testing.T) {
	parts := template.Must(template.New("parts").Funcs(template.FuncMap{"dict": uiDict, "statusTag": uiStatusTag, "bar": uiCheckBar, "lower": strings.ToLower}).
		ParseFS(uiTemplateFiles, "ui/templates/parts.html"))
	render := func(errs map[string]string, labels map[string]any) string {
		var b strings.Builder
		if err := parts.ExecuteTemplate(&b, "errorsummary", uiDict("Errors", errs, "Labels", labels)); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	if got := strings.TrimSpace(render(nil, nil)); got != "" {
		t.Errorf("no errors, yet a summary: %q", got)
	}
	got := render(map[string]string{"": "Not saved.", "url": "url must be a URL", "port": "<img src=x onerror=alert(1)>"}, map[string]any{"url": "URL or host"})
	for _, want := range []string{`role="alert"`, `<p>Not saved.</p>`, `<a href="#url">URL or host: url must be a URL</a>`, `<a href="#port">&lt;img src=x onerror=alert(1)&gt;</a>`} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %s:\n%s", want, got)
		}
	}
	if got := render(map[string]string{"": "Invalid email or password."}, nil); strings.Contains(got, "<ul>") || !strings.Contains(got, "Invalid email or password.") {
		t.Errorf("a form's message alone: %s", got)
	}
	if got := render(map[string]string{"full_name": "too long"}, nil); !strings.Contains(got, `<a href="#full_name">too long</a>`) {
		t.Errorf("a field's error without a label: %s", got)
	}
}
