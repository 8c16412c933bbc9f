package httpapi

import (
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
)

// probeAuth checks a remote probe's bearer token.
func (s *Server) probeAuth(r *http.Request) error {
	if s.deps.ProbeToken == "" {
		return domain.Errorf(domain.ErrUnauthorized, "remote probes are disabled: start the server with --probe-token")
	}
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(token), []byte(s.deps.ProbeToken)) != 1 {
		return domain.Errorf(domain.ErrUnauthorized, "invalid probe token")
	}
	return nil
}

func (s *Server) probeRegister(w http.ResponseWriter, r *http.Request, _ *principal) error {
	var body struct {
		Code string  `json:"code"`
		Name string  `json:"name"`
		Lat  float64 `json:"lat"`
		Lng  float64 `json:"lng"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	id, pos, err := s.deps.RegisterRegion.Handle(r.Context(), commands.RegisterRegion{Code: body.Code, Name: body.Name, Lat: body.Lat, Lng: body.Lng})
	if err != nil {
		return err
	}
	s.settle(r, pos)
	writeJSON(w, http.StatusOK, map[string]any{"region_id": id})
	return nil
}

func (s *Server) probeAssignments(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if r.URL.Query().Get("region_id") == "" {
		return badRequest("query parameter region_id is required")
	}
	region, err := intParam(r, "region_id", 0, 1, 1<<31-1)
	if err != nil {
		return err
	}
	version, err := s.deps.Queries.AssignmentsVersion(r.Context(), int64(region))
	if err != nil {
		return err
	}
	etag := `"` + version + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	list, err := s.deps.Queries.Assignments(r.Context(), int64(region))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func (s *Server) probeResults(w http.ResponseWriter, r *http.Request, _ *principal) error {
	var body struct {
		RegionID int64                `json:"region_id"`
		Results  []domain.CheckResult `json:"results"`
	}
	// A result's error and detail are text a monitored target sent (an
	// SSH banner, a DNS answer), not the agent's: RecordChecks makes them
	// storable instead of refusing the batch, which would lose the checks.
	data, err := readOpaqueBody(r)
	if err != nil {
		return err
	}
	if err := decodeBytes(data, &body); err != nil {
		return err
	}
	if body.RegionID <= 0 {
		return domain.Invalid("region_id", "missing", "region_id is required")
	}
	regions, err := s.deps.Queries.ActiveRegions(r.Context())
	if err != nil {
		return err
	}
	if !slices.Contains(regions, body.RegionID) {
		return domain.Invalid("region_id", "value_error", "region %d is not registered or not active; register first", body.RegionID)
	}
	n, _, err := s.deps.RecordChecks.Handle(r.Context(), commands.RecordChecks{RegionID: body.RegionID, Results: body.Results})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"recorded": n})
	return nil
}
