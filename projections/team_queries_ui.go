package projections

import "context"

// MemberAPIKeyIDs returns the ids of a member's API keys that are not
// revoked, for the removal of a member (commands.MemberKeys).
func (q *Queries) MemberAPIKeyIDs(ctx context.Context, accountID, userID int64) ([]int64, error) {
	out := []int64{}
	err := q.db.SelectContext(ctx, &out, `SELECT id FROM api_keys WHERE account_id = $1 AND user_id = $2 AND revoked_at IS NULL ORDER BY id`,
		accountID, userID)
	return out, err
}
