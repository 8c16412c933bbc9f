package httpapi

import (
	"net/http"
	"strconv"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
)

// importMonitors creates the monitors of a file sent as the body: a Gatus
// configuration, a JSON array of create-monitor bodies or a CSV list. The
// format comes from ?format= or the Content-Type; ?dry_run=true only
// reports. The answer is 200 with a report per entry, whatever each entry's
// fate; a file that does not parse is a 422 naming the line.
func (s *Server) importMonitors(w http.ResponseWriter, r *http.Request, p *principal) error {
	if s.deps.ImportMonitors == nil || s.deps.ImportFiles == nil {
		return domain.Errorf(domain.ErrNotEnabled, "this server does not import monitors")
	}
	q := r.URL.Query()
	format, ok := s.deps.ImportFiles.Format(q.Get("format"), r.Header.Get("Content-Type"))
	if !ok {
		if q.Get("format") != "" {
			return badRequest("query parameter format must be one of gatus, json, csv")
		}
		return badRequest("say the file's format: ?format=gatus, json or csv, or a Content-Type of application/yaml, application/json or text/csv")
	}
	dryRun := false
	if v := q.Get("dry_run"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return badRequest("query parameter dry_run must be true or false")
		}
		dryRun = b
	}
	// Bounded by the middleware (1 MiB). The file is YAML or CSV as often
	// as JSON: the command checks the text of every entry's strings with
	// the rule readBody applies to JSON bodies, entry by entry.
	data, err := readOpaqueBody(r)
	if err != nil {
		return err
	}
	entries, err := s.deps.ImportFiles.Parse(format, data)
	if err != nil {
		return err
	}
	res, err := s.deps.ImportMonitors.Handle(r.Context(), commands.ImportMonitors{Actor: p.actor(r), Plan: p.Plan, Entries: entries, DryRun: dryRun})
	if err != nil {
		return err
	}
	if res.Err != nil {
		s.deps.Log.Error("import stopped", "err", res.Err, "request_id", requestID(r), "imported", res.Created)
	}
	// The report stands whether or not the read models have caught up;
	// waiting lets the client's next list show the monitors.
	s.settle(r, res.Position)
	writeJSON(w, http.StatusOK, res)
	return nil
}
