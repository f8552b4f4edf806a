package views

import (
	"encoding/json"
	"regexp"
	"strconv"
	"testing"
)

// TestResponseHandling resolves statuses as htmx does (the first rule whose
// code, as an unanchored RegExp, matches the status) against the page's
// htmx config: the refusals a person causes are swapped quietly (no
// htmx:responseError, so no console error), other failures are swapped and
// still reported as errors (issue 17, defect 2).
func TestResponseHandling(t *testing.T) {
	var cfg struct {
		ResponseHandling []struct {
			Code  string `json:"code"`
			Swap  bool   `json:"swap"`
			Error bool   `json:"error"`
		} `json:"responseHandling"`
	}
	if err := json.Unmarshal([]byte(htmxConfig), &cfg); err != nil {
		t.Fatalf("htmx config is not JSON: %v", err)
	}
	resolve := func(status int) (swap, isErr bool) {
		for _, r := range cfg.ResponseHandling {
			if regexp.MustCompile(r.Code).MatchString(strconv.Itoa(status)) {
				return r.Swap, r.Error
			}
		}
		return false, false // htmx's own fallback
	}
	tests := []struct {
		give          int
		swap, isError bool
	}{
		{200, true, false},
		{204, false, false},
		{286, true, false}, // stop polling, still swapped
		{400, true, false}, // an invalid filter
		{403, true, false},
		{404, true, false},
		{409, true, false},
		{422, true, false}, // a refused edit
		{429, true, false},
		{401, true, true},
		{405, true, true},
		{413, true, true},
		{500, true, true},
		{502, true, true},
		{503, true, true},
	}
	for _, tt := range tests {
		swap, isErr := resolve(tt.give)
		if swap != tt.swap || isErr != tt.isError {
			t.Errorf("status %d: swap %v, error %v; want swap %v, error %v", tt.give, swap, isErr, tt.swap, tt.isError)
		}
	}
}
