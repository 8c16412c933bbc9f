package projections

import (
	"context"
	"encoding/json"
	"strconv"
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
	// UserID, when set, keeps the events that member did (not their API
	// keys', nor the system's).
	UserID int64
}

func (f AuditFilter) match(e domain.RecordedEvent) bool {
	at := e.RecordedAt
	return (f.AccountID == 0 || e.Metadata.AccountID == f.AccountID) &&
		(f.UserID == 0 || (e.Metadata.ActorType == domain.ActorUser && e.Metadata.ActorID == f.UserID)) &&
		(f.Stream == "" || e.StreamID == f.Stream) &&
		(f.Type == "" || e.Type == f.Type) &&
		(f.Since.IsZero() || !at.Before(f.Since)) &&
		(f.Until.IsZero() || at.Before(f.Until))
}

// AccountLog is an event store that can read one account's events without
// scanning the rest of the log (the PostgreSQL store, through an index on
// the account column).
type AccountLog interface {
	// ReadAccount returns up to limit committed events whose
	// Metadata.AccountID is accountID, after from, in log order. Events
	// that commit while the caller pages may be missed; it is for exports,
	// not followers.
	ReadAccount(ctx context.Context, accountID int64, from domain.Position, limit int) ([]domain.RecordedEvent, error)
}

// AccountLogBackward reads one account's events newest first (the
// PostgreSQL store).
type AccountLogBackward interface {
	// ReadAccountBackward returns up to limit committed events of the
	// account before before (zero: from the newest), newest first.
	ReadAccountBackward(ctx context.Context, accountID int64, before domain.Position, limit int) ([]domain.RecordedEvent, error)
}

// auditScanMax bounds how many of an account's events one AuditPage reads
// looking for matches, so a filter that matches little costs one bounded
// read; the page then says where to go on from.
const auditScanMax = 5000

// AuditPage returns up to limit of the account's events matching f, newest
// first, before before (zero: from the newest), with secrets removed, and
// the position to pass as before for the next page (zero when the log has
// no more). It reads at most auditScanMax events, so a page may hold fewer
// than limit with more to come. Errors: ErrNotEnabled when the store cannot
// read an account newest first (EventStoreDB; the export still works).
func AuditPage(ctx context.Context, store domain.EventStore, f AuditFilter, before domain.Position, limit int) ([]domain.RecordedEvent, domain.Position, error) {
	back, ok := store.(AccountLogBackward)
	if !ok || f.AccountID == 0 {
		return nil, domain.Position{}, domain.Errorf(domain.ErrNotEnabled, "the audit log's newest-first view needs the PostgreSQL event store; download the export instead")
	}
	var out []domain.RecordedEvent
	for scanned := 0; scanned < auditScanMax; {
		batch, err := back.ReadAccountBackward(ctx, f.AccountID, before, min(500, auditScanMax-scanned))
		if err != nil {
			return nil, domain.Position{}, err
		}
		for i, e := range batch {
			if f.match(e) {
				e.Data = redact(e.Data)
				out = append(out, e)
				if len(out) == limit {
					if i == len(batch)-1 && len(batch) < 500 {
						return out, domain.Position{}, nil
					}
					return out, e.Position, nil
				}
			}
		}
		scanned += len(batch)
		if len(batch) < 500 {
			return out, domain.Position{}, nil
		}
		before = batch[len(batch)-1].Position
	}
	return out, before, nil
}

// auditPage is how many events an export reads at a time.
const auditPage = 2000

// ExportAudit streams the matching events to fn in log order, reading the
// log in pages so memory stays bounded however long the log is. An
// account's export reads only that account's events when the store is an
// AccountLog; otherwise (EventStoreDB) it pages through the whole log.
// Secrets (password and key hashes) are removed from payloads.
func ExportAudit(ctx context.Context, store domain.EventStore, f AuditFilter, fn func(domain.RecordedEvent) error) error {
	read := store.ReadAll
	if al, ok := store.(AccountLog); ok && f.AccountID != 0 {
		read = func(ctx context.Context, from domain.Position, limit int) ([]domain.RecordedEvent, error) {
			return al.ReadAccount(ctx, f.AccountID, from, limit)
		}
	}
	var from domain.Position
	for {
		batch, err := read(ctx, from, auditPage)
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
		if len(batch) < auditPage {
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

// AuditRecord is one exported event.
type AuditRecord struct {
	Sequence      uint64          `json:"sequence"`
	EventID       string          `json:"event_id"`
	Stream        string          `json:"stream"`
	StreamVersion int64           `json:"stream_version"`
	Type          string          `json:"type"`
	Version       int             `json:"version"`
	RecordedAt    time.Time       `json:"recorded_at"`
	Metadata      domain.Metadata `json:"metadata"`
	Data          json.RawMessage `json:"data"`
}

// NewAuditRecord converts a recorded event into its export form.
func NewAuditRecord(e domain.RecordedEvent) AuditRecord {
	return AuditRecord{Sequence: e.Sequence, EventID: e.ID, Stream: e.StreamID, StreamVersion: e.StreamVersion,
		Type: e.Type, Version: e.Version, RecordedAt: e.RecordedAt, Metadata: e.Metadata, Data: e.Data}
}

// AuditCSVHeader names the CSV export's columns.
func AuditCSVHeader() []string {
	return []string{"sequence", "recorded_at", "stream", "stream_version", "type", "version", "event_id",
		"actor_type", "actor_id", "account_id", "correlation_id", "data"}
}

// AuditCSVRecord is one event as a CSV row.
func AuditCSVRecord(e domain.RecordedEvent) []string {
	return []string{strconv.FormatUint(e.Sequence, 10), e.RecordedAt.UTC().Format(time.RFC3339Nano), e.StreamID,
		strconv.FormatInt(e.StreamVersion, 10), e.Type, strconv.Itoa(e.Version), e.ID, e.Metadata.ActorType,
		strconv.FormatInt(e.Metadata.ActorID, 10), strconv.FormatInt(e.Metadata.AccountID, 10), e.Metadata.CorrelationID, string(e.Data)}
}
