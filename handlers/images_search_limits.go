package handlers

import (
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/readmodel/search"
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
// how to write it instead. Terms are counted as the search index counts
// them, not as words: its tokenizer splits a word at every rune that is no
// letter or digit (search.IsTokenRune), so "x-a*" is the phrase "x" "a*" and
// its prefix is the one letter after the dash, and a 200-character word of
// dashes is a phrase of a hundred tokens.
func checkSearch(text string) error {
	terms := 0
	// Words as the search cuts them: a control rune separates words too.
	for _, w := range search.Fields(text) {
		bare := strings.TrimRight(w, "*")
		tokens := strings.FieldsFunc(bare, func(r rune) bool { return !search.IsTokenRune(r) })
		if len(tokens) == 0 {
			continue
		}
		terms += len(tokens)
		if bare != w && utf8.RuneCountInString(tokens[len(tokens)-1]) < minPrefixRunes {
			return searchRefused(
				"Search \"" + truncate(w) + "\" is too short a prefix: type at least 2 characters before the *.")
		}
	}
	if terms > maxSearchTerms {
		return searchRefused(
			"The search has too many words: at most 8 at once (a word with dashes or dots counts each part). Remove some words, or filter by status, family or label instead.")
	}
	return nil
}
