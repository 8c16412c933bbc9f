package commands

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/medialuna/medialuna/domain"
)

// QuotaSeeds lists what an account held before its quota stream began, so
// accounts whose resources predate write-side quotas count them too.
type QuotaSeeds interface {
	// ExistingSlots returns the account's live resources of kind as the
	// read models hold them, after waiting until they have applied the log
	// up to upTo. Errors: the context's when the read models stay behind.
	ExistingSlots(ctx context.Context, accountID int64, kind domain.QuotaKind, upTo domain.Position) ([]domain.Slot, error)
}

// quotas reserves and releases slots on an account's quota streams
// (domain.QuotaStream). A create reserves first, with the version it read,
// then appends the resource; a failed append releases the slot, and so does
// a deletion or revocation after it is recorded. A release lost to a crash
// leaves a stale slot, which the next create refused by it detects (the
// resource's stream shows it deleted, or it never appeared) and frees.
type quotas struct {
	store domain.EventStore
	now   Clock
	seeds QuotaSeeds
}

// seedWait bounds the wait for read models when a quota stream is begun,
// as long as a write waits for them elsewhere (httpapi's settle timeout).
const seedWait = 3 * time.Second

// reserveAttempts bounds how often a reservation that lost a race decides
// again. Every round has a winner, and once the quota is full the losers
// are refused without appending, so contention ends within about the limit.
const reserveAttempts = 100

// staleFunc reports whether a held slot's resource is gone: deleted or
// revoked with its release lost, or never created.
type staleFunc func(ctx context.Context, s domain.Slot) (bool, error)

// reserve takes a slot of kind for the account of actor under limits. The
// id comes from newID, called once and only when the slot may be taken, so
// a refused request consumes no id. Errors: ErrLimit when the quota is
// full, ErrConflict when slot's name is taken.
func (q quotas) reserve(ctx context.Context, actor Actor, kind domain.QuotaKind, limits domain.PlanLimits, slot domain.Slot,
	newID func() (int64, error), stale staleFunc) (int64, error) {
	stream := domain.QuotaStream(actor.AccountID, kind)
	for attempt := range reserveAttempts {
		var events []domain.Event
		quota := domain.NewQuota(kind)
		version, err := load(ctx, q.store, stream, quota)
		if err != nil {
			return 0, err
		}
		if !quota.Seeded {
			seed, err := q.seed(ctx, actor.AccountID, kind)
			if err != nil {
				return 0, err
			}
			quota.Apply(seed)
			events = append(events, seed)
		}
		now := q.now().UTC().Truncate(time.Microsecond)
		s := slot
		s.ReservedAt = now
		decided, err := quota.Reserve(s, limits, nil, now)
		if code := domain.ErrorCode(err); code == domain.ErrLimit || code == domain.ErrConflict {
			gone := map[int64]bool{}
			suspects := quota.Suspects(s, now)
			// One read-model query clears the slots whose resource plainly
			// lives, so a refused create reads the streams of only the few
			// the model does not show (new, or gone with their release
			// lost), not one stream per slot of a full account.
			live := map[int64]bool{}
			if len(suspects) > 0 {
				slots, lerr := q.seeds.ExistingSlots(ctx, actor.AccountID, kind, domain.Position{})
				if lerr != nil {
					return 0, lerr
				}
				for _, l := range slots {
					live[l.ID] = true
				}
			}
			for _, h := range suspects {
				if live[h.ID] {
					continue
				}
				g, serr := stale(ctx, h)
				if serr != nil {
					return 0, serr
				}
				if g {
					gone[h.ID] = true
				}
			}
			if len(gone) == 0 {
				return 0, err
			}
			decided, err = quota.Reserve(s, limits, gone, now)
		}
		if err != nil {
			return 0, err
		}
		if slot.ID == 0 {
			if slot.ID, err = newID(); err != nil {
				return 0, err
			}
		}
		// The decision does not depend on the id: mark the reservation
		// with it.
		for _, e := range decided {
			if r, ok := e.(*domain.QuotaSlotReserved); ok {
				r.Slot.ID = slot.ID
			}
		}
		events = append(events, decided...)
		_, err = save(ctx, q.store, stream, version, actor.metadata(now, actor.AccountID), events)
		if domain.ErrorCode(err) != domain.ErrConflict {
			return slot.ID, err
		}
		// Another create or release won the race: decide again on what it
		// wrote, after a short random pause so the losers spread out.
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		time.Sleep(time.Duration(1+rand.IntN(2+min(attempt, 10)*3)) * time.Millisecond)
	}
	return 0, domain.Errorf(domain.ErrConflict, "too many concurrent changes to the account's %s; try again", kind)
}

// seed is the event that begins a quota stream with what the account holds.
func (q quotas) seed(ctx context.Context, accountID int64, kind domain.QuotaKind) (*domain.QuotaSeeded, error) {
	head, err := q.store.Head(ctx)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, seedWait)
	defer cancel()
	slots, err := q.seeds.ExistingSlots(wctx, accountID, kind, head)
	if err != nil {
		if ctx.Err() == nil && wctx.Err() != nil {
			return nil, domain.Errorf(domain.ErrConflict, "the account's %s are still being counted; try again in a moment", kind)
		}
		return nil, err
	}
	if slots == nil {
		slots = []domain.Slot{}
	}
	return &domain.QuotaSeeded{Kind: kind, Slots: slots}, nil
}

// release frees resource id's slot of kind. Failures are left for the next
// refused reservation to repair (see quotas).
func (q quotas) release(ctx context.Context, actor Actor, accountID int64, kind domain.QuotaKind, id int64) {
	// The change it follows is decided: a client that hangs up now must
	// not leave the slot held.
	ctx = context.WithoutCancel(ctx)
	stream := domain.QuotaStream(accountID, kind)
	retryOnConflict(ctx, func() (domain.AppendResult, error) {
		quota := domain.NewQuota(kind)
		version, err := load(ctx, q.store, stream, quota)
		if err != nil {
			return domain.AppendResult{}, err
		}
		return save(ctx, q.store, stream, version, actor.metadata(q.now(), accountID), quota.Release(id))
	})
}

// existent is an aggregate that can tell whether it still exists.
type existent interface {
	aggregate
	Exists() bool
}

// goneFrom reports whether the resource holding s, folded from stream into
// agg, is gone: deleted or revoked, or never created although its slot was
// reserved long enough ago that its creation cannot still be under way.
func goneFrom(ctx context.Context, store domain.EventStore, now Clock, stream string, agg existent, s domain.Slot) (bool, error) {
	version, err := load(ctx, store, stream, agg)
	if err != nil {
		return false, err
	}
	if version == domain.NoStream {
		return now().Sub(s.ReservedAt) > abandonedClaimAge, nil
	}
	return !agg.Exists(), nil
}
