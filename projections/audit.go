package projections

import (
	"context"
	"encoding/json"
	"time"

	"github.com/medialuna/medialuna/domain"
)

// AuditFilter selects events for an audit export. Zero fields match all.
type AuditFilter struct {
	AccountID int64 // 0: every account (operators only)
	Stream    string
	Type      string
	Since     time.Time
	Until     time.Time
}

func (f AuditFilter) match(e domain.RecordedEvent) bool {
	at := e.RecordedAt
	return (f.AccountID == 0 || e.Metadata.AccountID == f.AccountID) &&
		(f.Stream == "" || e.StreamID == f.Stream) &&
		(f.Type == "" || e.Type == f.Type) &&
		(f.Since.IsZero() || !at.Before(f.Since)) &&
		(f.Until.IsZero() || at.Before(f.Until))
}

// ExportAudit streams the matching events to fn in log order, reading the
// log in pages so memory stays bounded however long the log is. Secrets
// (password and key hashes) are removed from payloads.
func ExportAudit(ctx context.Context, store domain.EventStore, f AuditFilter, fn func(domain.RecordedEvent) error) error {
	var from domain.Position
	for {
		batch, err := store.ReadAll(ctx, from, 2000)
		if err != nil {
			return err
		}
		for _, e := range batch {
			if !f.Until.IsZero() && !e.RecordedAt.Before(f.Until) && e.RecordedAt.After(f.Until.Add(time.Minute)) {
				// The log is in commit order and recorded_at follows it up to
				// clock skew between writers; a minute past the end is done.
				return nil
			}
			if f.match(e) {
				e.Data = redact(e.Data)
				if err := fn(e); err != nil {
					return err
				}
			}
		}
		if len(batch) < 2000 {
			return nil
		}
		from = batch[len(batch)-1].Position
	}
}

// redact drops fields that must never leave the server, whatever the event.
func redact(data json.RawMessage) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return data
	}
	changed := false
	for _, k := range []string{"password_hash", "key_hash"} {
		if _, ok := m[k]; ok {
			m[k] = json.RawMessage(`"[redacted]"`)
			changed = true
		}
	}
	if !changed {
		return data
	}
	out, err := json.Marshal(m)
	if err != nil {
		return data
	}
	return out
}
