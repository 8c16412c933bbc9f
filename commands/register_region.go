package commands

import (
	"context"

	"github.com/medialuna/medialuna/domain"
)

// RegisterRegion registers a probe's region: a probe starting up names the
// region it checks from.
type RegisterRegion struct {
	Code, Name string
	Lat, Lng   float64
}

// RegisterRegionHandler handles RegisterRegion.
type RegisterRegionHandler struct {
	store domain.EventStore
	ids   IDs
	now   Clock
}

// NewRegisterRegionHandler returns a handler.
func NewRegisterRegionHandler(store domain.EventStore, ids IDs, now Clock) *RegisterRegionHandler {
	return &RegisterRegionHandler{store: store, ids: ids, now: now}
}

// Handle returns the id of the region with the code, creating it the first
// time a probe of that code starts. Later registrations keep the region.
// Errors: ErrInvalid for a code, name or position the domain refuses.
func (h *RegisterRegionHandler) Handle(ctx context.Context, cmd RegisterRegion) (int64, domain.Position, error) {
	code, name, lat, lng := cmd.Code, cmd.Name, cmd.Lat, cmd.Lng
	if _, err := domain.NewRegion(1, code, name, lat, lng); err != nil {
		return 0, domain.Position{}, err
	}
	events, _ := domain.NewRegion(1, code, name, lat, lng)
	code = events[0].(*domain.RegionRegistered).Code
	meta := domain.Metadata{ActorType: domain.ActorProbe, OccurredAt: h.now().UTC()}
	claim, err := h.store.ReadStream(ctx, domain.RegionCodeStream(code))
	if err != nil {
		return 0, domain.Position{}, err
	}
	if len(claim) > 0 {
		ev, err := domain.DecodeRecorded(claim[0])
		if err != nil {
			return 0, domain.Position{}, err
		}
		return ev.(*domain.RegionRegistered).RegionID, domain.Position{}, nil
	}
	id, err := h.ids.Next(ctx, "region")
	if err != nil {
		return 0, domain.Position{}, err
	}
	events, err = domain.NewRegion(id, code, name, lat, lng)
	if err != nil {
		return 0, domain.Position{}, err
	}
	// The code claim decides races between probes starting together.
	if _, err := save(ctx, h.store, domain.RegionCodeStream(code), domain.NoStream, meta, events); err != nil {
		if domain.ErrorCode(err) == domain.ErrConflict {
			return h.Handle(ctx, RegisterRegion{Code: code, Name: name, Lat: lat, Lng: lng})
		}
		return 0, domain.Position{}, err
	}
	res, err := save(ctx, h.store, domain.RegionStream(id), domain.NoStream, meta, events)
	return id, res.Position, err
}
