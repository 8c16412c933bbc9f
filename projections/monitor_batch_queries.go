package projections

import (
	"context"

	"github.com/lib/pq"
)

// MonitorsByID returns the account's monitors among ids, lowest id first,
// in one query: a batch create answers with every monitor it created.
func (q *Queries) MonitorsByID(ctx context.Context, accountID int64, ids []int64) ([]MonitorView, error) {
	if len(ids) == 0 {
		return []MonitorView{}, nil
	}
	var rows []monitorRow
	if err := q.db.SelectContext(ctx, &rows, `SELECT `+monitorColumns+monitorsFrom+`WHERE m.id = ANY($1) AND m.account_id = $2 ORDER BY m.id`,
		pq.Array(ids), accountID); err != nil {
		return nil, err
	}
	return q.views(ctx, accountID, rows)
}
