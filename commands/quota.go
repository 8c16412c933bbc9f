package commands

import (
	"context"
	"hash/fnv"
	"math/rand/v2"
	"sync"
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
	// turns queues this process's reservations on one quota stream: they
	// would all append at the stream's same version, so without it n
	// concurrent creates of one account cost about n²/2 failed appends and
	// the back-off sleeps between them. The version check still decides
	// between processes (API replicas, the CLI).
	turns *streamTurns
}

// streamTurns is a fixed set of mutexes, a stream taking the one its name
// hashes to: two accounts sharing one only wait for each other briefly.
type streamTurns [64]sync.Mutex

func (t *streamTurns) lock(stream string) func() {
	if t == nil {
		return func() {}
	}
	h := fnv.New32a()
	h.Write([]byte(stream))
	m := &t[h.Sum32()%uint32(len(t))]
	m.Lock()
	return m.Unlock
}

// seedWait bounds the wait for read models when a quota stream is begun,
// as long as a write waits for them elsewhere (httpapi's settle timeout).
const seedWait = 3 * time.Second

// reserveAttempts bounds how often a reservation that lost a race decides
// again. Every round has a winner, and once the quota is full the losers
// are refused without appending, so contention ends within about the limit.
const reserveAttempts = 100

// idBlocks is an IDs that hands out many ids in one round trip
// (postgres.IDs).
type idBlocks interface {
	NextN(ctx context.Context, kind string, n int) ([]int64, error)
}

// nextIDs returns n fresh ids of kind from ids, in one call when it can.
func nextIDs(ctx context.Context, ids IDs, kind string, n int) ([]int64, error) {
	if n == 0 {
		return nil, nil
	}
	if b, ok := ids.(idBlocks); ok {
		return b.NextN(ctx, kind, n)
	}
	out := make([]int64, n)
	for i := range out {
		id, err := ids.Next(ctx, kind)
		if err != nil {
			return nil, err
		}
		out[i] = id
	}
	return out, nil
}

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
		// Each event records the count after it, for the next reservation's
		// fast path (reserveMany); the fold already holds the seed.
		quota.Count(events)
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
	q.releaseMany(ctx, actor, accountID, kind, []int64{id})
}

// releaseMany frees the slots of ids in one append.
func (q quotas) releaseMany(ctx context.Context, actor Actor, accountID int64, kind domain.QuotaKind, ids []int64) {
	// The change it follows is decided: a client that hangs up now must
	// not leave the slots held.
	ctx = context.WithoutCancel(ctx)
	stream := domain.QuotaStream(accountID, kind)
	retryOnConflict(ctx, func() (domain.AppendResult, error) {
		quota := domain.NewQuota(kind)
		version, err := load(ctx, q.store, stream, quota)
		if err != nil {
			return domain.AppendResult{}, err
		}
		var events []domain.Event
		for _, id := range ids {
			events = append(events, quota.Release(id)...)
		}
		quota.Count(events)
		return save(ctx, q.store, stream, version, actor.metadata(q.now(), accountID), events)
	})
}

// reserveMany takes up to n unnamed slots of kind in one append, for n
// resources created together (a batch of monitors, or one). It returns the
// ids granted, lowest-numbered requests first, and the refusal that the
// rest (n - len(ids) of them) meet: ErrLimit once the quota is full.
//
// It first decides from the count that the stream's latest event records
// (domain.QuotaHeld), reading one event instead of the stream's whole
// history, whose length grows with every create and delete the account
// ever made. Only when that count is missing (a stream written before
// counts were kept) or the request does not fit under it does it read
// the whole stream, which shows the stale slots a full quota may free.
func (q quotas) reserveMany(ctx context.Context, actor Actor, kind domain.QuotaKind, limits domain.PlanLimits, n int,
	newIDs func(n int) ([]int64, error), stale staleFunc) ([]int64, error, error) {
	if n == 0 {
		return nil, nil, nil
	}
	stream := domain.QuotaStream(actor.AccountID, kind)
	defer q.turns.lock(stream)()
	for attempt := range reserveAttempts {
		now := q.now().UTC().Truncate(time.Microsecond)
		version, events, refusal, err := q.decideCounted(ctx, stream, kind, limits, n, now)
		if err != nil {
			return nil, nil, err
		}
		if events == nil {
			version, events, refusal, err = q.decideWhole(ctx, actor, stream, kind, limits, n, now, stale)
			if err != nil {
				return nil, nil, err
			}
		}
		var granted []*domain.QuotaSlotReserved
		for _, e := range events {
			if r, ok := e.(*domain.QuotaSlotReserved); ok {
				granted = append(granted, r)
			}
		}
		// The decision does not depend on the ids: number the reservations
		// now that they are granted, so a refused request consumes none.
		ids, err := newIDs(len(granted))
		if err != nil {
			return nil, nil, err
		}
		for i, r := range granted {
			r.Slot.ID = ids[i]
		}
		if len(ids) == 0 {
			return nil, refusal, nil
		}
		_, err = save(ctx, q.store, stream, version, actor.metadata(now, actor.AccountID), events)
		if domain.ErrorCode(err) != domain.ErrConflict {
			if err != nil {
				return nil, nil, err
			}
			return ids, refusal, nil
		}
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		time.Sleep(time.Duration(1+rand.IntN(2+min(attempt, 10)*3)) * time.Millisecond)
	}
	return nil, nil, domain.Errorf(domain.ErrConflict, "too many concurrent changes to the account's %s; try again", kind)
}

// decideCounted is reserveMany's fast path: all n slots from the count in
// the stream's latest event. Its events are nil when the count is missing
// or the slots do not all fit, for the caller to decide on the whole
// stream.
func (q quotas) decideCounted(ctx context.Context, stream string, kind domain.QuotaKind, limits domain.PlanLimits, n int,
	now time.Time) (domain.ExpectedVersion, []domain.Event, error, error) {
	tail, err := q.store.ReadStreamTail(ctx, stream, 1)
	if err != nil || len(tail) == 0 {
		return 0, nil, nil, err
	}
	ev, err := domain.DecodeRecorded(tail[0])
	if err != nil {
		return 0, nil, nil, err
	}
	held, ok := domain.QuotaHeld(ev)
	if !ok {
		return 0, nil, nil, nil
	}
	events, ok := domain.ReserveCounted(kind, held, limits, make([]int64, n), now)
	if !ok {
		return 0, nil, nil, nil
	}
	return domain.ExpectedVersion(tail[0].StreamVersion), events, nil, nil
}

// decideWhole is reserveMany's slow path: the whole stream folded, begun
// with its seed when it has not begun, stale slots freed when they stand
// in the way, and as many of the n slots as fit.
func (q quotas) decideWhole(ctx context.Context, actor Actor, stream string, kind domain.QuotaKind, limits domain.PlanLimits, n int,
	now time.Time, stale staleFunc) (domain.ExpectedVersion, []domain.Event, error, error) {
	quota := domain.NewQuota(kind)
	version, err := load(ctx, q.store, stream, quota)
	if err != nil {
		return 0, nil, nil, err
	}
	var events []domain.Event
	if !quota.Seeded {
		seed, err := q.seed(ctx, actor.AccountID, kind)
		if err != nil {
			return 0, nil, nil, err
		}
		events = append(events, seed)
	}
	quota.Count(events)
	var gone map[int64]bool
	for i := 0; i < n; i++ {
		// Each placeholder id differs, so no reservation is taken for a
		// retry of another; reserveMany numbers them.
		decided, rerr := quota.Reserve(domain.Slot{ReservedAt: now}, limits, gone, now)
		if domain.ErrorCode(rerr) == domain.ErrLimit && gone == nil {
			if gone, err = q.stale(ctx, actor, kind, quota, now, stale); err != nil {
				return 0, nil, nil, err
			}
			decided, rerr = quota.Reserve(domain.Slot{ReservedAt: now}, limits, gone, now)
		}
		if rerr != nil {
			return version, events, rerr, nil
		}
		for _, e := range decided {
			if r, ok := e.(*domain.QuotaSlotReserved); ok {
				r.Slot.ID = -int64(i + 1) // a placeholder until reserveMany numbers it
			}
		}
		quota.Count(decided)
		events = append(events, decided...)
	}
	return version, events, nil, nil
}

// stale returns the held slots of a full quota whose resources are gone
// (see reserve), after one read-model query clears those plainly alive.
func (q quotas) stale(ctx context.Context, actor Actor, kind domain.QuotaKind, quota *domain.Quota, now time.Time, stale staleFunc) (map[int64]bool, error) {
	gone := map[int64]bool{}
	suspects := quota.Suspects(domain.Slot{}, now)
	if len(suspects) == 0 {
		return gone, nil
	}
	slots, err := q.seeds.ExistingSlots(ctx, actor.AccountID, kind, domain.Position{})
	if err != nil {
		return nil, err
	}
	live := map[int64]bool{}
	for _, l := range slots {
		live[l.ID] = true
	}
	for _, h := range suspects {
		if live[h.ID] || h.ID < 0 {
			continue
		}
		g, err := stale(ctx, h)
		if err != nil {
			return nil, err
		}
		if g {
			gone[h.ID] = true
		}
	}
	return gone, nil
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
