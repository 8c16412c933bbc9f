package domain

import (
	"sort"
	"strings"
	"time"
)

// QuotaKind names a resource whose count a plan limits, or whose names are
// unique, per account.
type QuotaKind string

const (
	QuotaMonitors    QuotaKind = "monitors"
	QuotaAPIKeys     QuotaKind = "api_keys"
	QuotaStatusPages QuotaKind = "status_pages"
	QuotaTags        QuotaKind = "tags" // no count limit; names unique, case-insensitively
)

// QuotaStream names the write-side stream that holds an account's slots of
// one kind. Every create reserves a slot on it with the version it read, so
// of two creates racing for the last slot (or for one tag name) exactly one
// wins; deletions and revocations release theirs.
func QuotaStream(accountID int64, kind QuotaKind) string {
	return AccountStream(accountID) + "-" + string(kind)
}

// Slot is one resource counted against a quota.
type Slot struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name,omitempty"`       // tags: unique per account, case-insensitively
	ExpiresAt  *time.Time `json:"expires_at,omitempty"` // API keys: the slot frees itself then
	ReservedAt time.Time  `json:"reserved_at"`
}

// QuotaSeeded starts a quota stream with what the account already held
// when the stream began (resources created before quotas were kept on the
// write side).
type QuotaSeeded struct {
	Kind  QuotaKind `json:"kind"`
	Slots []Slot    `json:"slots"`
	Held  *int      `json:"held,omitempty"` // see QuotaHeld
}

// QuotaSlotReserved takes a slot for a resource about to be created.
type QuotaSlotReserved struct {
	Kind QuotaKind `json:"kind"`
	Slot Slot      `json:"slot"`
	Held *int      `json:"held,omitempty"` // see QuotaHeld
}

// QuotaSlotReleased frees a slot: its resource was deleted or revoked, its
// creation failed, or it was found stale.
type QuotaSlotReleased struct {
	Kind QuotaKind `json:"kind"`
	ID   int64     `json:"id"`
	Held *int      `json:"held,omitempty"` // see QuotaHeld
}

func (QuotaSeeded) EventType() string       { return EvQuotaSeeded }
func (QuotaSeeded) EventVersion() int       { return 1 }
func (QuotaSlotReserved) EventType() string { return EvQuotaSlotReserved }
func (QuotaSlotReserved) EventVersion() int { return 1 }
func (QuotaSlotReleased) EventType() string { return EvQuotaSlotReleased }
func (QuotaSlotReleased) EventVersion() int { return 1 }

// Quota folds a quota stream: the slots an account holds of one kind.
type Quota struct {
	Kind   QuotaKind
	Seeded bool // the stream has begun; before, what exists must be seeded
	Slots  map[int64]Slot
}

// NewQuota returns an empty quota of kind ready to fold events into.
func NewQuota(kind QuotaKind) *Quota { return &Quota{Kind: kind, Slots: map[int64]Slot{}} }

// Apply folds one event.
func (q *Quota) Apply(e Event) {
	switch e := e.(type) {
	case *QuotaSeeded:
		q.Seeded = true
		for _, s := range e.Slots {
			q.Slots[s.ID] = s
		}
	case *QuotaSlotReserved:
		q.Seeded = true
		q.Slots[e.Slot.ID] = e.Slot
	case *QuotaSlotReleased:
		delete(q.Slots, e.ID)
	}
}

// Count applies events, decided on q, to q and records in each how many
// slots q holds after it (QuotaHeld), so that the stream's latest event
// alone tells the next decision the count. Every writer of a quota stream
// passes what it appends through Count: the count is exact because each
// append is checked against the version it was decided on.
func (q *Quota) Count(events []Event) {
	for _, e := range events {
		q.Apply(e)
		n := len(q.Slots)
		switch e := e.(type) {
		case *QuotaSeeded:
			e.Held = &n
		case *QuotaSlotReserved:
			e.Held = &n
		case *QuotaSlotReleased:
			e.Held = &n
		}
	}
}

// QuotaHeld is the number of slots (expired ones included) a quota stream
// holds after its event e, when e records it; ok is false for events
// written before counts were kept, and for events of other types.
func QuotaHeld(e Event) (held int, ok bool) {
	var p *int
	switch e := e.(type) {
	case *QuotaSeeded:
		p = e.Held
	case *QuotaSlotReserved:
		p = e.Held
	case *QuotaSlotReleased:
		p = e.Held
	}
	if p == nil {
		return 0, false
	}
	return *p, true
}

// ReserveCounted decides len(ids) reservations of unnamed slots of kind
// from the count alone: held slots after the stream's latest event, when
// that event records it (QuotaHeld). It grants them only when all n fit
// under the limit, numbered with ids, and returns ok false otherwise: at
// the limit, some held slots may be stale (an expired key, a resource
// deleted with its release lost), which only the whole stream shows, so
// the caller decides on the whole stream (Reserve). A count that includes
// expired slots can only make it fall back, never grant too many.
func ReserveCounted(kind QuotaKind, held int, limits PlanLimits, ids []int64, now time.Time) (events []Event, ok bool) {
	limit := QuotaLimit(kind, limits)
	if limit != Unlimited && held+len(ids) > limit {
		return nil, false
	}
	for i, id := range ids {
		n := held + i + 1
		events = append(events, &QuotaSlotReserved{Kind: kind, Slot: Slot{ID: id, ReservedAt: now}, Held: &n})
	}
	return events, true
}

// Holds reports whether resource id holds a slot.
func (q *Quota) Holds(id int64) bool { _, ok := q.Slots[id]; return ok }

// Held returns the slots in use at now (an expired API key's slot is free),
// lowest id first.
func (q *Quota) Held(now time.Time) []Slot {
	out := []Slot{}
	for _, s := range q.Slots {
		if s.ExpiresAt == nil || now.Before(*s.ExpiresAt) {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// QuotaLimit is the count limit limits set on kind.
func QuotaLimit(kind QuotaKind, limits PlanLimits) int {
	switch kind {
	case QuotaMonitors:
		return limits.MaxMonitors
	case QuotaAPIKeys:
		return limits.MaxAPIKeys
	case QuotaStatusPages:
		return limits.MaxStatusPages
	}
	return Unlimited
}

// NameKey is the form in which slot names are compared: trimmed and
// case-folded, so "Prod" and " prod" are one tag.
func NameKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// Suspects are the held slots that stand in the way of s: the slot holding
// its name, or, for a count limit, every held slot. A caller that finds
// some of them stale (their resource deleted with the release lost, or
// never created) names them in Reserve's gone.
func (q *Quota) Suspects(s Slot, now time.Time) []Slot {
	held := q.Held(now)
	if s.Name == "" {
		return held
	}
	for _, h := range held {
		if NameKey(h.Name) == NameKey(s.Name) {
			return []Slot{h}
		}
	}
	return held
}

// Reserve decides whether s may take a slot under limits: its name must be
// free and the held slots, less those in gone, must be under the limit.
// It releases the expired and the gone slots in the same decision. A slot
// already held by s.ID is kept (a retried reservation).
// Errors: ErrConflict for a name in use, ErrLimit for a full quota.
func (q *Quota) Reserve(s Slot, limits PlanLimits, gone map[int64]bool, now time.Time) ([]Event, error) {
	if s.ID != 0 && q.Holds(s.ID) {
		return nil, nil
	}
	var events []Event
	live := 0
	ids := make([]int64, 0, len(q.Slots))
	for id := range q.Slots {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		h := q.Slots[id]
		expired := h.ExpiresAt != nil && !now.Before(*h.ExpiresAt)
		if expired || gone[id] {
			events = append(events, &QuotaSlotReleased{Kind: q.Kind, ID: id})
			continue
		}
		if s.Name != "" && NameKey(h.Name) == NameKey(s.Name) {
			return nil, Errorf(ErrConflict, "a tag named %q already exists", strings.TrimSpace(s.Name))
		}
		live++
	}
	if limit := QuotaLimit(q.Kind, limits); !WithinLimit(limit, live) {
		return nil, quotaFull(q.Kind, limits, limit)
	}
	return append(events, &QuotaSlotReserved{Kind: q.Kind, Slot: s}), nil
}

func quotaFull(kind QuotaKind, limits PlanLimits, limit int) error {
	switch kind {
	case QuotaMonitors:
		return Errorf(ErrLimit, "plan %s allows %d monitors; delete one or upgrade", limits.Plan, limit)
	case QuotaAPIKeys:
		return Errorf(ErrLimit, "plan %s allows %d API keys; revoke one or upgrade", limits.Plan, limit)
	case QuotaStatusPages:
		plural := "s"
		if limit == 1 {
			plural = ""
		}
		return Errorf(ErrLimit, "plan %s allows %d status page%s (max_status_pages); delete one or upgrade", limits.Plan, limit, plural)
	}
	return Errorf(ErrLimit, "plan %s allows %d %s", limits.Plan, limit, kind)
}

// Release decides freeing resource id's slot; nothing when it holds none.
func (q *Quota) Release(id int64) []Event {
	if !q.Holds(id) {
		return nil
	}
	return []Event{&QuotaSlotReleased{Kind: q.Kind, ID: id}}
}
