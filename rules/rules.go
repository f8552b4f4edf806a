// Package rules holds the field limits of the Yandex Cloud image APIs, as the
// API reference (../shared/seeds) states them. The emulator enforces them on
// the wire and the dashboard checks them before sending, so a person sees the
// same message in both places. It depends on nothing but the standard library.
package rules

import (
	"fmt"
	"regexp"
	"sort"
	"unicode/utf8"
)

// Limits from the reference.
const (
	MaxIDLength          = 50
	MaxDescriptionLength = 256
	MaxLabels            = 64
	MaxLabelKeyLength    = 63
	MaxLabelValueLength  = 63
	MinDiskSize          = int64(4194304)       // 4 MiB
	MaxDiskSize          = int64(4398046511104) // 4 TiB
	MaxPageSize          = 1000
	MaxPageTokenLength   = 100
	MaxFilterLength      = 1000
)

var (
	// nameRe is `|[a-z][-a-z0-9]{1,61}[a-z0-9]`: empty, or 3..63 characters.
	nameRe       = regexp.MustCompile(`^(|[a-z][-a-z0-9]{1,61}[a-z0-9])$`)
	labelKeyRe   = regexp.MustCompile(`^[a-z][-_0-9a-z]*$`)
	labelValueRe = regexp.MustCompile(`^[-_0-9a-z]*$`)
)

// Violation is one bad field, in the shape of google.rpc.BadRequest.FieldViolation.
type Violation struct {
	Field   string // request field path, e.g. "name" or "labels.env"
	Message string // human readable, safe to show
}

func (v Violation) Error() string { return v.Field + ": " + v.Message }

// Name checks an image name (also used for desktop and baremetal names).
// An empty name is allowed by the regex; required says whether the call needs one.
func Name(field, v string, required bool) []Violation {
	if v == "" {
		if required {
			return []Violation{{field, "is required"}}
		}
		return nil
	}
	if !nameRe.MatchString(v) {
		return []Violation{{field, "must be 3-63 characters: lowercase Latin letters, digits and hyphens, starting with a letter and not ending with a hyphen"}}
	}
	return nil
}

// Family checks an image family name; same rule as a name, never required.
func Family(field, v string) []Violation { return Name(field, v, false) }

// Description checks a description: at most 256 characters.
func Description(field, v string) []Violation {
	if n := utf8.RuneCountInString(v); n > MaxDescriptionLength {
		return []Violation{{field, fmt.Sprintf("must be at most %d characters, got %d", MaxDescriptionLength, n)}}
	}
	return nil
}

// Labels checks a whole label set. Violations are reported per key, in key
// order, with the field "labels.<key>" (or "labels" for the count).
func Labels(field string, labels map[string]string) []Violation {
	var out []Violation
	if len(labels) > MaxLabels {
		out = append(out, Violation{field, fmt.Sprintf("at most %d labels, got %d", MaxLabels, len(labels))})
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, Label(field, k, labels[k])...)
	}
	return out
}

// Label checks one key and value.
func Label(field, k, v string) []Violation {
	f := field + "." + k
	switch {
	case k == "":
		return []Violation{{field, "label key must not be empty"}}
	case len(k) > MaxLabelKeyLength:
		return []Violation{{f, fmt.Sprintf("label key must be at most %d characters", MaxLabelKeyLength)}}
	case !labelKeyRe.MatchString(k):
		return []Violation{{f, "label key must start with a lowercase letter and hold only lowercase letters, digits, '-' and '_'"}}
	case len(v) > MaxLabelValueLength:
		return []Violation{{f, fmt.Sprintf("label value must be at most %d characters", MaxLabelValueLength)}}
	case !labelValueRe.MatchString(v):
		return []Violation{{f, "label value may hold only lowercase letters, digits, '-' and '_'"}}
	}
	return nil
}

// MinDisk checks min_disk_size against the allowed range and the image's own
// size (dataSize; 0 when unknown). Zero means "not set" and is allowed.
func MinDisk(field string, v, dataSize int64) []Violation {
	if v == 0 {
		return nil
	}
	if v < MinDiskSize || v > MaxDiskSize {
		return []Violation{{field, fmt.Sprintf("must be between %d and %d bytes (4 MiB to 4 TiB)", MinDiskSize, MaxDiskSize)}}
	}
	if dataSize > 0 && v < dataSize {
		return []Violation{{field, fmt.Sprintf("must not be smaller than the image size (%d bytes)", dataSize)}}
	}
	return nil
}

// ID checks a resource id: required and at most 50 characters.
func ID(field, v string, required bool) []Violation {
	if v == "" {
		if required {
			return []Violation{{field, "is required"}}
		}
		return nil
	}
	if len(v) > MaxIDLength {
		return []Violation{{field, fmt.Sprintf("must be at most %d characters", MaxIDLength)}}
	}
	return nil
}

// Paging checks page_size and page_token of a List call.
func Paging(size int64, token string) []Violation {
	var out []Violation
	if size < 0 || size > MaxPageSize {
		out = append(out, Violation{"page_size", fmt.Sprintf("must be between 0 and %d", MaxPageSize)})
	}
	if len(token) > MaxPageTokenLength {
		out = append(out, Violation{"page_token", fmt.Sprintf("must be at most %d characters", MaxPageTokenLength)})
	}
	return out
}
