package commands

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/medialuna/medialuna/domain"
)

// MaxImportEntries bounds the monitors one import may hold; a larger file is
// refused whole, before anything is created, and has to be split.
const MaxImportEntries = 1000

// ImportEntry is one monitor a file to import describes, parsed by an
// adapter (adapters/importfile) but not yet judged: Config is given over
// domain.DefaultMonitorConfig, Given says which required fields the file
// named. Refused, when set, is why the entry cannot become a monitor at all
// (a Gatus endpoint type Media Luna has no check for, a value that does not
// parse); Warnings are what the file says that the monitor cannot carry.
type ImportEntry struct {
	Name     string
	Line     int // where the entry starts in the file; 0 when unknown
	Config   domain.MonitorConfig
	Given    domain.MonitorGiven
	Tags     []string // tag names, created when the account has none of that name
	Paused   bool     // created, then paused (Gatus' enabled: false)
	Warnings []string
	Refused  string
}

// ImportMonitors creates the monitors of a file, each exactly as the create
// endpoint would (domain.NewMonitorConfig, then CreateMonitor with its plan
// limits, quotas and validation); a refused entry does not stop the others.
// DryRun decides every entry the same way and creates nothing.
type ImportMonitors struct {
	Actor   Actor
	Plan    domain.Plan
	Entries []ImportEntry
	DryRun  bool
}

// Import entry statuses.
const (
	ImportCreated     = "created"
	ImportFailed      = "failed"
	ImportWouldCreate = "would_create"
)

// ImportedEntry reports what became of one entry.
type ImportedEntry struct {
	Index     int      `json:"index"`
	Line      int      `json:"line,omitempty"`
	Name      string   `json:"name"`
	Status    string   `json:"status"` // created, failed, would_create
	MonitorID int64    `json:"monitor_id,omitempty"`
	Error     string   `json:"error,omitempty"`
	Warnings  []string `json:"warnings"`
}

// ImportResult is the report of an import. Position is the last write (the
// zero position when nothing was written), for callers that wait for the
// read models.
type ImportResult struct {
	Created  int             `json:"created"`
	Failed   int             `json:"failed"`
	DryRun   bool            `json:"dry_run"`
	Entries  []ImportedEntry `json:"entries"`
	Position domain.Position `json:"-"`
	// Err is the server failure (not an entry's refusal: the store or the
	// read models) that stopped the import; the entries from there on are
	// reported failed, those before it stand.
	Err error `json:"-"`
}

// ImportMonitorsHandler handles ImportMonitors.
type ImportMonitorsHandler struct {
	store    domain.EventStore
	ids      IDs
	now      Clock
	facts    MonitorFacts
	minFloor int
	tags     *CreateTagHandler
	state    *SetMonitorStateHandler
}

// NewImportMonitorsHandler returns a handler; its arguments are
// NewCreateMonitorHandler's.
func NewImportMonitorsHandler(store domain.EventStore, ids IDs, now Clock, facts MonitorFacts, minIntervalFloor int) *ImportMonitorsHandler {
	return &ImportMonitorsHandler{store: store, ids: ids, now: now, facts: facts, minFloor: minIntervalFloor,
		tags: NewCreateTagHandler(store, ids, now, facts), state: NewSetMonitorStateHandler(store, now, facts)}
}

// Handle imports the entries and reports on each. Errors (nothing is then
// created): ErrInvalid for more than MaxImportEntries entries; a failure
// to read the account's tags or the log before the first entry. Every
// refusal of one entry is in its report instead, and a server failure
// midway stops the import with the result's Err set.
func (h *ImportMonitorsHandler) Handle(ctx context.Context, cmd ImportMonitors) (ImportResult, error) {
	res := ImportResult{DryRun: cmd.DryRun, Entries: []ImportedEntry{}}
	if len(cmd.Entries) > MaxImportEntries {
		return res, domain.Errorf(domain.ErrInvalid, "an import holds at most %d monitors; this one holds %d: split the file", MaxImportEntries, len(cmd.Entries))
	}
	tags, err := h.tagIndex(ctx, cmd.Actor.AccountID)
	if err != nil {
		return res, err
	}
	// The tags this import created or found are facts the read models may
	// not show yet (the CLI runs without them); validation sees them too.
	known := &importFacts{MonitorFacts: h.facts, tags: map[int64]bool{}}
	for _, id := range tags {
		known.tags[id] = true
	}
	create := NewCreateMonitorsHandler(h.store, h.ids, h.now, known, h.minFloor)
	// Every entry is decided first as its create would decide it (the
	// validation, the plan's monitor count with the entries before it), so
	// that a refused one creates no tags; the batch create then decides
	// again, authoritatively, for all of them in one reservation.
	sim, err := h.simulate(ctx, cmd.Actor.AccountID, cmd.Plan, known)
	if err != nil {
		return res, err
	}
	planned := map[string]bool{} // tags a dry run would create
	var pending []int            // indexes into res.Entries awaiting the create
	var configs []domain.MonitorConfig
	for i, e := range cmd.Entries {
		rep, cfg, pos, err := h.importOne(ctx, cmd, i, e, tags, known, sim, planned)
		if err != nil {
			// The store or the read models failed, not the entry: stop,
			// and say which entries were not tried.
			res.Err = err
			for j := i; j < len(cmd.Entries); j++ {
				res.Entries = append(res.Entries, notImported(cmd.Entries[j], j, i))
			}
			break
		}
		res.Position = later(res.Position, pos)
		if rep.Status == "" {
			pending = append(pending, len(res.Entries))
			configs = append(configs, cfg)
		}
		res.Entries = append(res.Entries, rep)
	}
	if len(pending) > 0 {
		created, pos, err := create.Handle(ctx, CreateMonitors{Actor: cmd.Actor, Plan: cmd.Plan, Configs: configs})
		if err != nil {
			res.Err = err
			for _, k := range pending {
				res.Entries[k].Status = ImportFailed
				res.Entries[k].Error = "not imported: the import's create failed on a server error"
			}
		} else {
			res.Position = later(res.Position, pos)
			for n, k := range pending {
				rep := &res.Entries[k]
				if created[n].Err != nil {
					rep.Status, rep.Error = ImportFailed, importMessage(created[n].Err)
					continue
				}
				rep.Status, rep.MonitorID = ImportCreated, created[n].ID
				res.Position = later(res.Position, h.pauseIfAsked(ctx, cmd, rep, cmd.Entries[rep.Index]))
			}
		}
	}
	for _, rep := range res.Entries {
		switch rep.Status {
		case ImportFailed:
			res.Failed++
		case ImportCreated:
			res.Created++
		}
	}
	return res, nil
}

// notImported is the report of entry j, not tried because the import
// stopped at entry i on a server error.
func notImported(e ImportEntry, j, i int) ImportedEntry {
	return ImportedEntry{Index: j, Line: e.Line, Name: e.Name, Status: ImportFailed,
		Error: "not imported: the import stopped at entry " + fmt.Sprint(i) + " on a server error", Warnings: []string{}}
}

// pauseIfAsked pauses a created entry the file disables, and returns the
// position of the pause (zero when none).
func (h *ImportMonitorsHandler) pauseIfAsked(ctx context.Context, cmd ImportMonitors, rep *ImportedEntry, e ImportEntry) domain.Position {
	if !e.Paused {
		return domain.Position{}
	}
	pos, err := h.state.Handle(ctx, SetMonitorState{Actor: cmd.Actor, MonitorID: rep.MonitorID, Action: "pause"})
	if err != nil {
		rep.Warnings = append(rep.Warnings, "created, but not paused: "+importMessage(err))
		return domain.Position{}
	}
	rep.Warnings = append(rep.Warnings, "created paused: the file disables it (enabled: false)")
	return pos
}

// importOne decides one entry and, unless it is a dry run, creates the
// tags it names; an entry left to create has an empty Status, and its
// config is returned. Its error is one that stops the import (the log
// cannot be read); the entry's own refusal is in the report.
func (h *ImportMonitorsHandler) importOne(ctx context.Context, cmd ImportMonitors, i int, e ImportEntry, tags map[string]int64,
	known *importFacts, sim *importSimulation, planned map[string]bool) (ImportedEntry, domain.MonitorConfig, domain.Position, error) {
	rep := ImportedEntry{Index: i, Line: e.Line, Name: e.Name, Warnings: slices.Clone(e.Warnings)}
	if rep.Warnings == nil {
		rep.Warnings = []string{}
	}
	var last domain.Position
	// failed reports the entry refused; a server failure (not a domain
	// refusal) is returned instead, to stop the import.
	failed := func(prefix string, err error) (ImportedEntry, domain.MonitorConfig, domain.Position, error) {
		if domain.ErrorCode(err) == domain.ErrInternal {
			return rep, domain.MonitorConfig{}, last, err
		}
		rep.Status, rep.Error = ImportFailed, prefix+importMessage(err)
		return rep, domain.MonitorConfig{}, last, nil
	}
	cfg, err := h.entryConfig(e)
	if err != nil {
		return failed("", err)
	}
	// Tags: the account's of that name, in any case, or new ones.
	var missing []string
	for _, name := range e.Tags {
		key := domain.NameKey(name)
		if id, ok := tags[key]; ok {
			if !slices.Contains(cfg.TagIDs, id) {
				cfg.TagIDs = append(cfg.TagIDs, id)
			}
			continue
		}
		if _, err := domain.NewTag(1, cmd.Actor.AccountID, name, ""); err != nil {
			return failed(fmt.Sprintf("tag %q: ", strings.TrimSpace(name)), err)
		}
		if !slices.ContainsFunc(missing, func(m string) bool { return domain.NameKey(m) == key }) {
			missing = append(missing, name)
		}
	}
	if err := sim.decide(ctx, cfg); err != nil {
		return failed("", err)
	}
	if cmd.DryRun {
		for _, name := range missing {
			if key := domain.NameKey(name); !planned[key] {
				planned[key] = true
				rep.Warnings = append(rep.Warnings, fmt.Sprintf("tag %q would be created", strings.TrimSpace(name)))
			}
		}
		rep.Status = ImportWouldCreate
		return rep, cfg, last, nil
	}
	for _, name := range missing {
		key := domain.NameKey(name)
		id, pos, err := h.tags.Handle(ctx, CreateTag{Actor: cmd.Actor, Name: name})
		switch {
		case domain.ErrorCode(err) == domain.ErrConflict:
			// Made meanwhile, by someone else: use it.
			fresh, ierr := h.tagIndex(ctx, cmd.Actor.AccountID)
			if ierr != nil {
				return rep, cfg, last, ierr
			}
			var ok bool
			if id, ok = fresh[key]; !ok {
				return failed(fmt.Sprintf("tag %q: ", strings.TrimSpace(name)), err)
			}
		case err != nil:
			return failed(fmt.Sprintf("tag %q: ", strings.TrimSpace(name)), err)
		default:
			last = later(last, pos)
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("tag %q was created", strings.TrimSpace(name)))
		}
		tags[key] = id
		known.tags[id] = true
		cfg.TagIDs = append(cfg.TagIDs, id)
	}
	return rep, cfg, last, nil
}

// entryConfig turns an entry into the config a create would take, refusing
// what the create endpoint's request would refuse.
func (h *ImportMonitorsHandler) entryConfig(e ImportEntry) (domain.MonitorConfig, error) {
	if e.Refused != "" {
		return domain.MonitorConfig{}, domain.Errorf(domain.ErrInvalid, "%s", e.Refused)
	}
	if err := checkConfigText(e); err != nil {
		return domain.MonitorConfig{}, err
	}
	cfg, err := domain.NewMonitorConfig(e.Config, e.Given)
	if err != nil {
		return cfg, err
	}
	cfg.TagIDs = slices.Clone(cfg.TagIDs)
	return cfg, nil
}

// checkConfigText applies the API's text rule (domain.CheckText, as httpapi
// checks every string of a JSON body) to every string of an entry: a file
// arrives as YAML or CSV as well, and its text is stored the same.
func checkConfigText(e ImportEntry) error {
	var v domain.Validation
	c := e.Config
	check := func(field, s string, kind domain.TextKind) {
		if problem, msg := domain.CheckText(s, kind); problem != "" {
			v.Add(field, problem, "%s %s", field, msg)
		}
	}
	for field, s := range map[string]string{"name": c.Name, "url": c.URL, "http_method": c.HTTPMethod,
		"dns_record_type": c.DNSRecordType, "dns_resolver": c.DNSResolver, "type": string(c.Type)} {
		check(field, s, domain.SingleLine)
	}
	check("request_body", c.RequestBody, domain.MultiLine)
	for _, k := range slices.Sorted(maps.Keys(c.RequestHeaders)) {
		check("request_headers", k, domain.SingleLine)
		check("request_headers", c.RequestHeaders[k], domain.HeaderValue)
	}
	for _, t := range e.Tags {
		check("tags", t, domain.SingleLine)
	}
	return v.Err()
}

// importMessage is what a report says of a refusal: every failing field's
// message, as the create endpoint's 422 lists them, or the create's
// message (a plan limit names it).
func importMessage(err error) string {
	var e *domain.Error
	if errors.As(err, &e) && len(e.Fields) > 0 {
		msgs := make([]string, len(e.Fields))
		for i, f := range e.Fields {
			msgs[i] = f.Message
			if f.Field != "" && !strings.HasPrefix(f.Message, f.Field) {
				msgs[i] = f.Field + ": " + f.Message // "url: field required"
			}
		}
		return strings.Join(msgs, "; ")
	}
	return domain.ErrorMessage(err)
}

// tagIndex maps the account's tag names (domain.NameKey) to their ids, as
// the log holds them: the tag quota stream, or the read models for an
// account whose stream has not begun.
func (h *ImportMonitorsHandler) tagIndex(ctx context.Context, accountID int64) (map[string]int64, error) {
	quota := domain.NewQuota(domain.QuotaTags)
	if _, err := load(ctx, h.store, domain.QuotaStream(accountID, domain.QuotaTags), quota); err != nil {
		return nil, err
	}
	slots := quota.Held(h.now())
	if !quota.Seeded {
		var err error
		if slots, err = h.facts.ExistingSlots(ctx, accountID, domain.QuotaTags, domain.Position{}); err != nil {
			return nil, err
		}
	}
	out := map[string]int64{}
	for _, s := range slots {
		out[domain.NameKey(s.Name)] = s.ID
	}
	return out, nil
}

// importSimulation decides a dry run's entries as the creates would: the
// same validation, and the account's monitor quota counted as the entries
// before would have filled it.
type importSimulation struct {
	rules   monitorRules
	account int64
	plan    domain.Plan
	quota   *domain.Quota
	now     Clock
	next    int64
}

func (h *ImportMonitorsHandler) simulate(ctx context.Context, accountID int64, plan domain.Plan, facts MonitorFacts) (*importSimulation, error) {
	quota := domain.NewQuota(domain.QuotaMonitors)
	if _, err := load(ctx, h.store, domain.QuotaStream(accountID, domain.QuotaMonitors), quota); err != nil {
		return nil, err
	}
	if !quota.Seeded {
		slots, err := facts.ExistingSlots(ctx, accountID, domain.QuotaMonitors, domain.Position{})
		if err != nil {
			return nil, err
		}
		quota.Apply(&domain.QuotaSeeded{Kind: domain.QuotaMonitors, Slots: slots})
	}
	return &importSimulation{rules: monitorRules{facts: facts, minFloor: h.minFloor}, account: accountID, plan: plan, quota: quota, now: h.now}, nil
}

func (s *importSimulation) decide(ctx context.Context, cfg domain.MonitorConfig) error {
	rules, regions, err := s.rules.rules(ctx, s.account, s.plan, len(cfg.DependsOn) > 0)
	if err != nil {
		return err
	}
	if len(cfg.RegionIDs) == 0 && len(regions) > 0 {
		cfg.RegionIDs = []int64{regions[0]}
	}
	if err := cfg.Validate(rules); err != nil {
		return err
	}
	s.next--
	events, err := s.quota.Reserve(domain.Slot{ID: s.next}, rules.Limits, nil, s.now())
	if err != nil {
		return err
	}
	for _, e := range events {
		s.quota.Apply(e)
	}
	return nil
}

// importFacts are the read models' facts plus what the import itself wrote.
type importFacts struct {
	MonitorFacts
	tags map[int64]bool
}

func (f *importFacts) TagIDs(ctx context.Context, accountID int64) ([]int64, error) {
	ids, err := f.MonitorFacts.TagIDs(ctx, accountID)
	if err != nil {
		return nil, err
	}
	for id := range f.tags {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func later(a, b domain.Position) domain.Position {
	if a.Less(b) {
		return b
	}
	return a
}

// AccountPlan returns the plan of account id as the log holds it, for
// callers without a signed-in user's plan (the CLI). Errors: ErrNotFound.
func (h *ImportMonitorsHandler) AccountPlan(ctx context.Context, id int64) (domain.Plan, error) {
	acc := domain.NewAccount()
	if _, err := load(ctx, h.store, domain.AccountStream(id), acc); err != nil {
		return "", err
	}
	if !acc.Exists() {
		return "", domain.Errorf(domain.ErrNotFound, "account %d not found", id)
	}
	return acc.Plan, nil
}
