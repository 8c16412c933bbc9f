package httpapi

import (
	"encoding/json"
	"fmt"

	"github.com/medialuna/medialuna/domain"
)

// A partial change (PUT or PATCH with only the fields to change) reaches a
// command as a function from the aggregate's config, as its stream holds it
// when the command decides, to the changed config: the JSON stays here, and
// a command that loses a race applies the change again to what won.

// overlay lays the fields present in the JSON object patch over a config.
func overlay[C any](patch json.RawMessage) func(C) (C, error) {
	return func(cfg C) (C, error) {
		if err := json.Unmarshal(patch, &cfg); err != nil {
			return cfg, fmt.Errorf("apply change: %w", err)
		}
		return cfg, nil
	}
}

// patchMonitorConfig overlays the fields present in patch on a monitor's
// config: request_headers is replaced, not merged, and the id lists are
// copied first so the loaded config is never written through.
func patchMonitorConfig(patch json.RawMessage) func(domain.MonitorConfig) (domain.MonitorConfig, error) {
	return func(cfg domain.MonitorConfig) (domain.MonitorConfig, error) {
		var present map[string]json.RawMessage
		if err := json.Unmarshal(patch, &present); err != nil {
			return cfg, domain.Errorf(domain.ErrInvalid, "the change must be a JSON object")
		}
		if _, ok := present["request_headers"]; ok {
			cfg.RequestHeaders = nil // replace, not merge
		}
		next := cfg
		next.RegionIDs = append([]int64(nil), cfg.RegionIDs...)
		next.TagIDs = append([]int64(nil), cfg.TagIDs...)
		if err := json.Unmarshal(patch, &next); err != nil {
			return cfg, fmt.Errorf("apply change: %w", err)
		}
		if next.RequestHeaders == nil {
			next.RequestHeaders = map[string]string{}
		}
		return next, nil
	}
}
