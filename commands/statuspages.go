package commands

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/medialuna/medialuna/domain"
)

// StatusPageFacts are the read-model facts page commands need.
type StatusPageFacts interface {
	// MonitorIDs lists the account's monitors.
	MonitorIDs(ctx context.Context, accountID int64) ([]int64, error)
	// QuotaSeeds counts the pages of accounts older than their quota stream.
	QuotaSeeds
}

// StatusPageHandler handles status page commands. A page lives on
// statuspage-<id>; its subdomain is claimed on subdomain-<name>, appended
// with the version read, so of two pages racing for one name across any
// accounts exactly one gets it.
type StatusPageHandler struct {
	store  domain.EventStore
	ids    IDs
	now    Clock
	facts  StatusPageFacts
	quotas quotas
}

// NewStatusPageHandler returns a handler.
func NewStatusPageHandler(store domain.EventStore, ids IDs, now Clock, facts StatusPageFacts) *StatusPageHandler {
	return &StatusPageHandler{store: store, ids: ids, now: now, facts: facts, quotas: quotas{store: store, now: now, seeds: facts}}
}

// abandonedClaimAge is how old a claim whose page never appeared must be
// before another page may take the name (its creation crashed midway).
const abandonedClaimAge = time.Minute

func (h *StatusPageHandler) validate(ctx context.Context, accountID int64, cfg *domain.StatusPageConfig) error {
	ids, err := h.facts.MonitorIDs(ctx, accountID)
	if err != nil {
		return err
	}
	return cfg.Validate(func(id int64) bool { return slices.Contains(ids, id) })
}

// Create makes a page: validate, check the plan's page count, claim the
// subdomain, then record the page (releasing the name if that fails).
func (h *StatusPageHandler) Create(ctx context.Context, actor Actor, plan domain.Plan, cfg domain.StatusPageConfig) (int64, domain.Position, error) {
	if err := h.validate(ctx, actor.AccountID, &cfg); err != nil {
		return 0, domain.Position{}, err
	}
	// The plan's count is decided on the account's page quota stream, where
	// concurrent creates meet; the subdomain on its claim stream.
	// A taken subdomain is refused before a quota slot is reserved, so the
	// common 409 appends nothing and holds no slot another create needs.
	if err := h.available(ctx, actor, cfg.Subdomain); err != nil {
		return 0, domain.Position{}, err
	}
	limits, _ := domain.LimitsOf(plan)
	id, err := h.quotas.reserve(ctx, actor, domain.QuotaStatusPages, limits, domain.Slot{},
		func() (int64, error) { return h.ids.Next(ctx, "status_page") }, h.gone)
	if err != nil {
		return 0, domain.Position{}, err
	}
	if err := h.claim(ctx, actor, cfg.Subdomain, id); err != nil {
		h.quotas.release(ctx, actor, actor.AccountID, domain.QuotaStatusPages, id)
		return 0, domain.Position{}, err
	}
	res, err := save(ctx, h.store, domain.StatusPageStream(id), domain.NoStream, actor.metadata(h.now(), 0),
		[]domain.Event{&domain.StatusPageCreated{PageID: id, AccountID: actor.AccountID, Config: cfg}})
	if err != nil {
		h.release(ctx, actor, cfg.Subdomain, id)
		h.quotas.release(ctx, actor, actor.AccountID, domain.QuotaStatusPages, id)
		return 0, domain.Position{}, err
	}
	return id, res.Position, nil
}

// gone reports whether a page holding a quota slot is gone.
func (h *StatusPageHandler) gone(ctx context.Context, s domain.Slot) (bool, error) {
	return goneFrom(ctx, h.store, h.now, domain.StatusPageStream(s.ID), &domain.StatusPage{}, s)
}

// Update applies a partial change: patch holds only the fields to change.
// A new subdomain is claimed before the page changes and the old one
// released after.
func (h *StatusPageHandler) Update(ctx context.Context, actor Actor, id int64, change func(domain.StatusPageConfig) (domain.StatusPageConfig, error)) (domain.Position, error) {
	monitors, err := h.facts.MonitorIDs(ctx, actor.AccountID)
	if err != nil {
		return domain.Position{}, err
	}
	stream := domain.StatusPageStream(id)
	var renamedFrom string
	res, err := retryOnConflict(ctx, func() (domain.AppendResult, error) {
		renamedFrom = ""
		var page domain.StatusPage
		version, err := load(ctx, h.store, stream, &page)
		if err != nil {
			return domain.AppendResult{}, err
		}
		if !page.Exists() || page.Owner() != actor.AccountID {
			return domain.AppendResult{}, domain.Errorf(domain.ErrNotFound, "status page %d not found", id)
		}
		cfg := page.Config
		// Monitors deleted since the page was saved drop out of it, so a
		// change that leaves monitor_ids alone still validates.
		cfg.MonitorIDs = domain.ExistingMonitors(page.Config.MonitorIDs, monitors)
		cfg, err = change(cfg)
		if err != nil {
			return domain.AppendResult{}, err
		}
		if err := cfg.Validate(func(m int64) bool { return slices.Contains(monitors, m) }); err != nil {
			return domain.AppendResult{}, err
		}
		renamed := cfg.Subdomain != page.Config.Subdomain
		if renamed {
			if err := h.claim(ctx, actor, cfg.Subdomain, id); err != nil {
				return domain.AppendResult{}, err
			}
		}
		res, err := save(ctx, h.store, stream, version, actor.metadata(h.now(), 0), []domain.Event{&domain.StatusPageUpdated{Config: cfg}})
		if err != nil {
			if renamed {
				h.release(ctx, actor, cfg.Subdomain, id)
			}
			return res, err
		}
		if renamed {
			renamedFrom = page.Config.Subdomain
		}
		return res, nil
	})
	if err != nil {
		return domain.Position{}, err
	}
	if renamedFrom != "" {
		// Best effort: a release lost here leaves a stale claim, which the
		// next page wanting the name recognises and takes over.
		h.release(ctx, actor, renamedFrom, id)
	}
	return res.Position, nil
}

// Delete removes a page and frees its subdomain.
func (h *StatusPageHandler) Delete(ctx context.Context, actor Actor, id int64) (domain.Position, error) {
	var sub string
	pos, err := decideOwned(ctx, h.store, h.now, actor, actor.AccountID, domain.StatusPageStream(id), fmt.Sprintf("status page %d", id),
		func() *domain.StatusPage { return &domain.StatusPage{} },
		func(p *domain.StatusPage) ([]domain.Event, error) {
			sub = p.Config.Subdomain
			return []domain.Event{&domain.StatusPageDeleted{}}, nil
		})
	if err != nil {
		return pos, err
	}
	h.release(ctx, actor, sub, id)
	h.quotas.release(ctx, actor, actor.AccountID, domain.QuotaStatusPages, id)
	return pos, nil
}

func errTaken(sub string) error {
	return domain.Errorf(domain.ErrConflict, "subdomain %q is already taken; choose another", sub)
}

// claim gives sub to page id. A name held by a page that was since deleted
// or renamed (its release lost to a crash), or by a page whose creation
// never finished, is taken over in the same append.
func (h *StatusPageHandler) claim(ctx context.Context, actor Actor, sub string, id int64) error {
	return h.claimOrCheck(ctx, actor, sub, id, true)
}

// available reports, as claim would decide now, whether sub is free for a
// new page: errTaken when a live page holds it.
func (h *StatusPageHandler) available(ctx context.Context, actor Actor, sub string) error {
	return h.claimOrCheck(ctx, actor, sub, 0, false)
}

func (h *StatusPageHandler) claimOrCheck(ctx context.Context, actor Actor, sub string, id int64, write bool) error {
	stream := domain.SubdomainStream(sub)
	for range 5 {
		recs, err := h.store.ReadStream(ctx, stream)
		if err != nil {
			return err
		}
		var c domain.SubdomainClaim
		var claimedAt time.Time
		for _, r := range recs {
			ev, err := domain.DecodeRecorded(r)
			if err != nil {
				return err
			}
			if ev != nil {
				c.Apply(ev)
				claimedAt = r.Metadata.OccurredAt
			}
		}
		if c.PageID == id {
			return nil
		}
		var events []domain.Event
		if c.PageID != 0 {
			var holder domain.StatusPage
			if _, err := load(ctx, h.store, domain.StatusPageStream(c.PageID), &holder); err != nil {
				return err
			}
			// A recent claim by a page under another name is a rename in
			// flight (claim, then save), not a lost release: only age or a
			// deletion makes it stale.
			old := h.now().Sub(claimedAt) > abandonedClaimAge
			abandoned := holder.ID == 0 && old
			stale := domain.ClaimIsStale(&holder, sub) && (holder.Deleted || old)
			if !stale && !abandoned {
				return errTaken(sub)
			}
			events = append(events, &domain.SubdomainReleased{PageID: c.PageID})
		}
		if !write {
			return nil
		}
		events = append(events, &domain.SubdomainClaimed{PageID: id})
		_, err = save(ctx, h.store, stream, domain.ExpectedVersion(len(recs)-1), actor.metadata(h.now(), 0), events)
		if domain.ErrorCode(err) != domain.ErrConflict {
			return err
		}
		// Someone appended in between: decide again on what they wrote.
	}
	return errTaken(sub)
}

// release frees sub if page id holds it. Failures are left for the next
// claim to repair (see claim).
func (h *StatusPageHandler) release(ctx context.Context, actor Actor, sub string, id int64) {
	stream := domain.SubdomainStream(sub)
	retryOnConflict(ctx, func() (domain.AppendResult, error) {
		var c domain.SubdomainClaim
		version, err := load(ctx, h.store, stream, &c)
		if err != nil || c.PageID != id {
			return domain.AppendResult{}, err
		}
		return save(ctx, h.store, stream, version, actor.metadata(h.now(), 0), []domain.Event{&domain.SubdomainReleased{PageID: id}})
	})
}
