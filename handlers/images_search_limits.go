package handlers

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/imagedash/imagedash/fault"
)

// Bounds of one search, so that no search costs the others their speed: a
// prefix term expands to every token it starts, and each term is one more
// posting list to intersect (a search of 60 one-letter prefixes took
// 400–900 ms and raised everyone's list p99 to 600 ms).
const (
	maxSearchTerms = 8
	minPrefixRunes = 2 // before an explicit '*'
)

// errSearchBounds marks checkSearch's refusals (the cause of its
// *fault.Error), so the list can show the message under the search box
// and the rest of the list, where other pages show it as an error.
var errSearchBounds = errors.New("search over the bounds")

// searchRefused is a refusal of checkSearch with its message: a bad
// request, as every other bad filter (FuzzImageFilter).
func searchRefused(msg string) error {
	return fault.New(fault.BadRequest, msg).Wrap(errSearchBounds)
}

// checkSearch refuses a search over the bounds with a message that says
// how to write it instead. Words are counted as the store's search counts
// them: a word without a letter or digit is no term.
func checkSearch(text string) error {
	terms := 0
	for _, w := range strings.Fields(text) {
		bare := strings.TrimRight(w, "*")
		if !strings.ContainsFunc(bare, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }) {
			continue
		}
		terms++
		if bare != w && utf8.RuneCountInString(bare) < minPrefixRunes {
			return searchRefused(
				"Search \"" + truncate(w) + "\" is too short a prefix: type at least 2 characters before the *.")
		}
	}
	if terms > maxSearchTerms {
		return searchRefused(
			"The search has too many words: at most 8 at once. Remove some words, or filter by status, family or label instead.")
	}
	return nil
}
