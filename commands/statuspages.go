package commands

import (
	"context"
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

// statusPages is what the status page commands share. A page lives on
// statuspage-<id>; its subdomain is claimed on subdomain-<name>, appended
// with the version read, so of two pages racing for one name across any
// accounts exactly one gets it.
type statusPages struct {
	store  domain.EventStore
	ids    IDs
	now    Clock
	facts  StatusPageFacts
	quotas quotas
}

func newStatusPages(store domain.EventStore, ids IDs, now Clock, facts StatusPageFacts) statusPages {
	return statusPages{store: store, ids: ids, now: now, facts: facts, quotas: quotas{store: store, now: now, seeds: facts}}
}

// abandonedClaimAge is how old a claim whose page never appeared must be
// before another page may take the name (its creation crashed midway).
const abandonedClaimAge = time.Minute

func (h *statusPages) validate(ctx context.Context, accountID int64, cfg *domain.StatusPageConfig) error {
	ids, err := h.facts.MonitorIDs(ctx, accountID)
	if err != nil {
		return err
	}
	return cfg.Validate(func(id int64) bool { return slices.Contains(ids, id) })
}

// gone reports whether a page holding a quota slot is gone.
func (h *statusPages) gone(ctx context.Context, s domain.Slot) (bool, error) {
	return goneFrom(ctx, h.store, h.now, domain.StatusPageStream(s.ID), &domain.StatusPage{}, s)
}

func errTaken(sub string) error {
	return domain.Errorf(domain.ErrConflict, "subdomain %q is already taken; choose another", sub)
}

// claim gives sub to page id. A name held by a page that was since deleted
// or renamed (its release lost to a crash), or by a page whose creation
// never finished, is taken over in the same append.
func (h *statusPages) claim(ctx context.Context, actor Actor, sub string, id int64) error {
	return h.claimOrCheck(ctx, actor, sub, id, true)
}

// available reports, as claim would decide now, whether sub is free for a
// new page: errTaken when a live page holds it.
func (h *statusPages) available(ctx context.Context, actor Actor, sub string) error {
	return h.claimOrCheck(ctx, actor, sub, 0, false)
}

// Available reports, as a create (page 0) or a rename of page id would
// decide now, whether sub is free for that page: nil when it is free or
// already the page's own, errTaken (ErrConflict) when another live page
// holds it. It appends nothing; the dashboard says it as the user types.
// The name must already be normalised (domain.NormalizeSubdomain).
func (h *statusPages) Available(ctx context.Context, actor Actor, sub string, id int64) error {
	return h.claimOrCheck(ctx, actor, sub, id, false)
}

func (h *statusPages) claimOrCheck(ctx context.Context, actor Actor, sub string, id int64, write bool) error {
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
func (h *statusPages) release(ctx context.Context, actor Actor, sub string, id int64) {
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
