package probeagent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
)

// AssignmentReader is the read model an embedded agent polls.
type AssignmentReader interface {
	AssignmentsVersion(ctx context.Context, regionID int64) (string, error)
	Assignments(ctx context.Context, regionID int64) ([]domain.CheckAssignment, error)
}

// LocalSource reads assignments straight from the read model, reloading
// only when their fingerprint changes.
type LocalSource struct {
	reader   AssignmentReader
	regionID int64
	version  string
}

// NewLocalSource returns a source for one region.
func NewLocalSource(reader AssignmentReader, regionID int64) *LocalSource {
	return &LocalSource{reader: reader, regionID: regionID}
}

// Assignments implements Source.
func (s *LocalSource) Assignments(ctx context.Context) ([]Assignment, bool, error) {
	v, err := s.reader.AssignmentsVersion(ctx, s.regionID)
	if err != nil {
		return nil, false, err
	}
	if v == s.version {
		return nil, false, nil
	}
	list, err := s.reader.Assignments(ctx, s.regionID)
	if err != nil {
		return nil, false, err
	}
	s.version = v
	return list, true, nil
}

// Recorder is the command that records a region's results.
type Recorder interface {
	Handle(ctx context.Context, cmd commands.RecordChecks) (int, domain.Position, error)
}

// LocalSink records results with the command handler, in-process.
type LocalSink struct {
	rec      Recorder
	regionID int64
}

// NewLocalSink returns a sink for one region.
func NewLocalSink(rec Recorder, regionID int64) *LocalSink {
	return &LocalSink{rec: rec, regionID: regionID}
}

// Record implements Sink.
func (s *LocalSink) Record(ctx context.Context, results []Result) error {
	_, _, err := s.rec.Handle(ctx, commands.RecordChecks{RegionID: s.regionID, Results: results})
	return err
}

// Server is a Media Luna server as a remote agent sees it: it registers
// the agent's region, serves assignments and takes results, over HTTP with
// the probe token.
type Server struct {
	base     string
	token    string
	client   *http.Client
	regionID int64
	etag     string
}

// NewServer returns a client for the server at base (e.g. http://host:8080).
func NewServer(base, token string) *Server {
	return &Server{base: strings.TrimRight(base, "/"), token: token, client: &http.Client{Timeout: 30 * time.Second}}
}

func (s *Server) do(ctx context.Context, method, path string, body any, out any) (int, http.Header, error) {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	if s.etag != "" && method == http.MethodGet {
		req.Header.Set("If-None-Match", s.etag)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if resp.StatusCode == http.StatusNotModified {
		return resp.StatusCode, resp.Header, nil
	}
	if resp.StatusCode/100 != 2 {
		var d struct{ Detail any }
		json.Unmarshal(data, &d)
		return resp.StatusCode, resp.Header, fmt.Errorf("%s %s: %d %v", method, path, resp.StatusCode, d.Detail)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, resp.Header, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, resp.Header, nil
}

// Register registers (or finds) the agent's region and returns its id.
func (s *Server) Register(ctx context.Context, code, name string, lat, lng float64) (int64, error) {
	var out struct {
		RegionID int64 `json:"region_id"`
	}
	if _, _, err := s.do(ctx, http.MethodPost, "/api/probe/register", map[string]any{"code": code, "name": name, "lat": lat, "lng": lng}, &out); err != nil {
		return 0, err
	}
	s.regionID = out.RegionID
	return out.RegionID, nil
}

// Assignments implements Source; the server answers 304 when nothing changed.
func (s *Server) Assignments(ctx context.Context) ([]Assignment, bool, error) {
	var list []Assignment
	status, hdr, err := s.do(ctx, http.MethodGet, "/api/probe/assignments?region_id="+url.QueryEscape(strconv.FormatInt(s.regionID, 10)), nil, &list)
	if err != nil {
		return nil, false, err
	}
	if status == http.StatusNotModified {
		return nil, false, nil
	}
	s.etag = hdr.Get("ETag")
	return list, true, nil
}

// Record implements Sink. The server derives event ids from each result,
// so a batch retried after a lost reply is recorded once.
func (s *Server) Record(ctx context.Context, results []Result) error {
	_, _, err := s.do(ctx, http.MethodPost, "/api/probe/results", map[string]any{"region_id": s.regionID, "results": results}, nil)
	return err
}
