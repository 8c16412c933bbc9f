package statushtml

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Atom (RFC 4287) of a page's incidents over the last 90 days, newest
// first. Entry content is plain text (type="text"): feed readers show it
// as typed, so nothing a user wrote can become markup there either.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string      `xml:"title"`
	ID      string      `xml:"id"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomPerson  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

type atomEntry struct {
	Title     string   `xml:"title"`
	ID        string   `xml:"id"`
	Published string   `xml:"published"`
	Updated   string   `xml:"updated"`
	Link      atomLink `xml:"link"`
	Content   atomText `xml:"content"`
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// lastChange is the latest moment an incident changed.
func (i Incident) lastChange() time.Time {
	t := i.StartedAt
	for _, p := range []*time.Time{i.AcknowledgedAt, i.ResolvedAt} {
		if p != nil && p.After(t) {
			t = *p
		}
	}
	for _, u := range i.Updates {
		if u.CreatedAt.After(t) {
			t = u.CreatedAt
		}
	}
	return t
}

// feed renders the page's Atom feed; base is the page's absolute URL.
func feed(p *Page, base, self string) ([]byte, error) {
	f := atomFeed{Title: p.Title + " incidents", ID: base, Updated: rfc3339(p.GeneratedAt),
		Links:  []atomLink{{Rel: "self", Type: "application/atom+xml", Href: self}, {Rel: "alternate", Type: "text/html", Href: base}},
		Author: atomPerson{Name: p.Title}}
	if len(p.history) > 0 {
		latest := time.Time{}
		for _, i := range p.history {
			if c := i.lastChange(); c.After(latest) {
				latest = c
			}
		}
		f.Updated = rfc3339(latest)
	}
	for _, i := range p.history {
		var b strings.Builder
		b.WriteString(i.StatusText + ". " + i.Title + " of " + i.MonitorName + ", started " + when(i.StartedAt))
		if i.ResolvedAt != nil {
			b.WriteString(", resolved " + when(*i.ResolvedAt))
		}
		b.WriteString(".")
		for _, u := range i.Updates {
			b.WriteString("\n\n" + when(u.CreatedAt) + ": " + u.Message)
		}
		title := i.Title + ": " + i.MonitorName
		if i.Status == "RESOLVED" {
			title += " (resolved)"
		}
		f.Entries = append(f.Entries, atomEntry{
			Title: title, ID: base + "#incident-" + strconv.FormatInt(i.ID, 10),
			Published: rfc3339(i.StartedAt), Updated: rfc3339(i.lastChange()),
			Link:    atomLink{Rel: "alternate", Type: "text/html", Href: base},
			Content: atomText{Type: "text", Body: b.String()},
		})
	}
	out, err := xml.MarshalIndent(f, "", " ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), out...), nil
}

// pageBase is the absolute URL of the page a request came through.
func (s *Site) pageBase(r *http.Request, rt route) string {
	if rt.host {
		return s.scheme + "://" + strings.ToLower(r.Host) + "/"
	}
	return s.cfg.BaseURL + "/status/" + rt.sub
}

func (s *Site) serveFeed(w http.ResponseWriter, r *http.Request, snap *snapshot, rt route) {
	base := s.pageBase(r, rt)
	self := strings.TrimSuffix(base, "/") + "/feed.atom"
	body, err := feed(snap.page, base, self)
	if err != nil {
		s.cfg.Log.Error("render feed", "subdomain", rt.sub, "err", err)
		s.plainError(w, rt, http.StatusInternalServerError, "Internal error.")
		return
	}
	v := newVariant(body, "application/atom+xml; charset=utf-8", "default-src 'none'; frame-ancestors 'none'", time.Time{}, false)
	s.serve(w, r, &v, http.StatusOK)
}
