package domain

import (
	"slices"
	"strconv"
	"strings"
)

// DefaultStatusCodes are the codes an HTTP check expects when the monitor
// names none: 200 to 299, the reference's default, spelled out so that a
// monitor echoes what it checks.
func DefaultStatusCodes() []int {
	codes := make([]int, 0, 100)
	for c := 200; c <= 299; c++ {
		codes = append(codes, c)
	}
	return codes
}

// FormatStatusCodes writes codes for people, runs as ranges: "200-299,
// 304". No codes is the default range.
func FormatStatusCodes(codes []int) string {
	if len(codes) == 0 {
		return "200-299"
	}
	sorted := slices.Clone(codes)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	var parts []string
	for i := 0; i < len(sorted); {
		j := i
		for j+1 < len(sorted) && sorted[j+1] == sorted[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, strconv.Itoa(sorted[i])+"-"+strconv.Itoa(sorted[j]))
		} else {
			parts = append(parts, strconv.Itoa(sorted[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// ParseStatusCodes reads what FormatStatusCodes writes: codes and ranges
// separated by commas or spaces. It reports false for anything else.
//
// A range lies within 100-599 and a code is kept once, so what a form
// field expands to is bounded by the codes HTTP has, not by how many
// ranges it repeats ("100-599, 100-599, ..." is 500 codes, not 500 a
// range); a single code outside them is kept for Validate to name.
func ParseStatusCodes(s string) ([]int, bool) {
	codes := []int{}
	seen := map[int]bool{}
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		from, to, isRange := strings.Cut(part, "-")
		lo, err := strconv.Atoi(from)
		if err != nil {
			return nil, false
		}
		hi := lo
		if isRange {
			if hi, err = strconv.Atoi(to); err != nil || hi < lo || lo < 100 || hi > 599 {
				return nil, false
			}
		}
		for c := lo; c <= hi; c++ {
			if !seen[c] {
				seen[c] = true
				codes = append(codes, c)
			}
		}
	}
	return codes, true
}
