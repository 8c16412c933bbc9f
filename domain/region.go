package domain

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// RegionStream names a probe region's stream.
func RegionStream(id int64) string { return "region-" + itoa(id) }

// RegionCodeStream claims a region code, so two probes registering the
// same new code create one region.
func RegionCodeStream(code string) string { return "region-code-" + code }

// RegionRegistered records a probe region; probes register on start.
type RegionRegistered struct {
	RegionID int64   `json:"region_id"`
	Code     string  `json:"code"`
	Name     string  `json:"name"`
	Lat      float64 `json:"lat"`
	Lng      float64 `json:"lng"`
}

// RegionDeactivated takes a region out of service.
type RegionDeactivated struct{}

func (RegionRegistered) EventType() string  { return EvRegionRegistered }
func (RegionRegistered) EventVersion() int  { return 1 }
func (RegionDeactivated) EventType() string { return EvRegionDeactivated }
func (RegionDeactivated) EventVersion() int { return 1 }

var regionCode = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// NewRegion validates a registration.
func NewRegion(id int64, code, name string, lat, lng float64) ([]Event, error) {
	var v Validation
	code = strings.ToLower(strings.TrimSpace(code))
	if !regionCode.MatchString(code) {
		v.Add("code", "value_error", "region code must be 1-40 lower-case letters, digits or dashes, such as eu-west")
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = code
	}
	if utf8.RuneCountInString(name) > 100 {
		v.Add("name", "value_error", "region name must be at most 100 characters")
	}
	if lat < -90 || lat > 90 || lng < -180 || lng > 180 {
		v.Add("lat", "value_error", "lat must be within ±90 and lng within ±180")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []Event{&RegionRegistered{RegionID: id, Code: code, Name: name, Lat: lat, Lng: lng}}, nil
}

// TagStream names a tag's stream.
func TagStream(id int64) string { return "tag-" + itoa(id) }

// TagCreated creates a tag in an account.
type TagCreated struct {
	TagID     int64  `json:"tag_id"`
	AccountID int64  `json:"account_id"`
	Name      string `json:"name"`
	Color     string `json:"color"`
}

// TagDeleted removes a tag (and takes it off every monitor in read models).
type TagDeleted struct{}

func (TagCreated) EventType() string { return EvTagCreated }
func (TagCreated) EventVersion() int { return 1 }
func (TagDeleted) EventType() string { return EvTagDeleted }
func (TagDeleted) EventVersion() int { return 1 }

var tagColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// NewTag validates a tag.
func NewTag(id, accountID int64, name, color string) ([]Event, error) {
	var v Validation
	name = strings.TrimSpace(name)
	if n := utf8.RuneCountInString(name); n == 0 || n > 50 {
		v.Add("name", "value_error", "tag name must be 1 to 50 characters")
	}
	if color == "" {
		color = "#6b7280"
	}
	if !tagColor.MatchString(color) {
		v.Add("color", "value_error", "color must be a hex colour such as #22c55e")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []Event{&TagCreated{TagID: id, AccountID: accountID, Name: name, Color: strings.ToLower(color)}}, nil
}
