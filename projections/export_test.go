package projections

import (
	"context"

	"github.com/jmoiron/sqlx"

	"github.com/medialuna/medialuna/domain"
)

// ApplyForTest exposes the checkpoint-guarded batch apply to tests.
func ApplyForTest(ctx context.Context, db *sqlx.DB, p Projector, events []domain.RecordedEvent) error {
	return applyBatch(ctx, db, p, events, domain.Position{})
}
