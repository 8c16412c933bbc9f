package domain

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Event is a fact that happened. Each concrete event is a small past-tense
// struct whose JSON form is stored in the log; EventType names it there and
// EventVersion is its current schema version.
type Event interface {
	EventType() string
	EventVersion() int
}

// Encode turns an event into the payload the log stores.
func Encode(e Event, meta Metadata, id string) (EventData, error) {
	data, err := json.Marshal(e)
	if err != nil {
		return EventData{}, fmt.Errorf("encode %s: %w", e.EventType(), err)
	}
	return EventData{ID: id, Type: e.EventType(), Version: e.EventVersion(), Data: data, Metadata: meta}, nil
}

// Decode turns a stored payload into its event struct, upcasting payloads
// written by older schema versions first. Unknown event types return
// (nil, nil): readers skip what they do not understand, so a newer writer
// never breaks an older reader.
func Decode(typ string, version int, data []byte) (Event, error) {
	e := newEvent(typ)
	if e == nil {
		return nil, nil
	}
	data, err := upcast(typ, version, e.EventVersion(), ScrubNUL(data))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, e); err != nil {
		return nil, fmt.Errorf("decode %s v%d: %w", typ, version, err)
	}
	return e, nil
}

// ScrubNUL returns a JSON payload with every escaped U+0000 in its strings
// replaced by U+FFFD. No PostgreSQL text or jsonb value can hold U+0000, so
// one such character in an event written by an older build or another
// writer would stop every read model that stores the string; readers
// decode through here and store the replacement character instead. The API
// refuses NUL at the edge, so events it appends never hold one. Valid JSON
// cannot carry a raw NUL byte, and Go's decoder already turns invalid UTF-8
// and lone surrogates into U+FFFD.
func ScrubNUL(data []byte) []byte {
	const escaped = `\u0000`
	if !bytes.Contains(data, []byte(escaped)) {
		return data
	}
	out := make([]byte, 0, len(data))
	for i := 0; i < len(data); i++ {
		c := data[i]
		if c != '\\' || i+1 >= len(data) {
			out = append(out, c)
			continue
		}
		// A backslash only ever starts an escape inside a string: copy the
		// escape whole, so an escaped backslash followed by "u0000" stays.
		if bytes.HasPrefix(data[i:], []byte(escaped)) {
			out = append(out, `\ufffd`...)
			i += len(escaped) - 1
			continue
		}
		out = append(out, c, data[i+1])
		i++
	}
	return out
}

// DecodeRecorded decodes the payload of a recorded event.
func DecodeRecorded(r RecordedEvent) (Event, error) {
	return Decode(r.Type, r.Version, r.Data)
}

// upcaster rewrites a payload of version v into version v+1.
type upcaster func(data map[string]any) error

// upcasters lists, per event type, the step from each old version to the
// next. Payloads in the log are never rewritten; they are upgraded as they
// are read.
func upcasterFor(typ string, from int) upcaster {
	switch {
	case typ == EvAccountOpened && from == 1:
		// v1 accounts had no plan field: every account opened on FREE.
		return func(d map[string]any) error {
			if _, ok := d["plan"]; !ok {
				d["plan"] = string(PlanFree)
			}
			return nil
		}
	}
	return nil
}

func upcast(typ string, version, current int, data []byte) ([]byte, error) {
	if version == current {
		return data, nil
	}
	if version > current {
		return nil, fmt.Errorf("%s v%d is newer than this build understands (v%d)", typ, version, current)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("upcast %s v%d: %w", typ, version, err)
	}
	for v := version; v < current; v++ {
		up := upcasterFor(typ, v)
		if up == nil {
			return nil, fmt.Errorf("no upcaster for %s v%d", typ, v)
		}
		if err := up(m); err != nil {
			return nil, fmt.Errorf("upcast %s v%d: %w", typ, v, err)
		}
	}
	return json.Marshal(m)
}
