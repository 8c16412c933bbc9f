package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/medialuna/medialuna/domain"
)

// quotaModel names the read model that holds a quota kind's resources.
func quotaModel(kind domain.QuotaKind) (string, bool) {
	switch kind {
	case domain.QuotaMonitors, domain.QuotaTags:
		return Monitors{}.Name(), true
	case domain.QuotaAPIKeys:
		return APIKeys{}.Name(), true
	case domain.QuotaStatusPages:
		return StatusPages{}.Name(), true
	}
	return "", false
}

// ExistingSlots implements commands.QuotaSeeds: the account's live
// resources of kind, once their read model has applied the log up to upTo.
// It is asked once per account and kind, when the write-side quota stream
// begins, so accounts older than it keep counting what they have.
func (q *Queries) ExistingSlots(ctx context.Context, accountID int64, kind domain.QuotaKind, upTo domain.Position) ([]domain.Slot, error) {
	model, ok := quotaModel(kind)
	if !ok {
		return nil, fmt.Errorf("no read model holds %s", kind)
	}
	if err := q.WaitFor(ctx, []string{model}, upTo); err != nil {
		return nil, err
	}
	var rows []struct {
		ID        int64      `db:"id"`
		Name      string     `db:"name"`
		ExpiresAt *time.Time `db:"expires_at"`
	}
	var query string
	switch kind {
	case domain.QuotaMonitors:
		query = `SELECT id, '' AS name, NULL::timestamptz AS expires_at FROM monitors WHERE account_id = $1 ORDER BY id`
	case domain.QuotaTags:
		query = `SELECT id, name, NULL::timestamptz AS expires_at FROM tags WHERE account_id = $1 ORDER BY id`
	case domain.QuotaAPIKeys:
		query = `SELECT id, '' AS name, expires_at FROM api_keys WHERE account_id = $1 AND revoked_at IS NULL ORDER BY id`
	case domain.QuotaStatusPages:
		query = `SELECT id, '' AS name, NULL::timestamptz AS expires_at FROM status_pages WHERE account_id = $1 ORDER BY id`
	}
	if err := q.db.SelectContext(ctx, &rows, query, accountID); err != nil {
		return nil, err
	}
	out := make([]domain.Slot, 0, len(rows))
	for _, r := range rows {
		s := domain.Slot{ID: r.ID, Name: r.Name}
		if r.ExpiresAt != nil {
			t := r.ExpiresAt.UTC()
			s.ExpiresAt = &t
		}
		out = append(out, s)
	}
	return out, nil
}
