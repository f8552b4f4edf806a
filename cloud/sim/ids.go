package sim

import "math/rand/v2"

// idAlphabet is what Yandex Cloud ids are made of: lowercase letters and digits.
const idAlphabet = "abcdefghijklmnopqrstuv0123456789"

// Id prefixes, as the real cloud's ids look (three characters, then 17).
const (
	prefixCloud     = "b1g"
	prefixFolder    = "b1g"
	prefixCompute   = "fd8"
	prefixDesktop   = "dci"
	prefixBareMetal = "ly5"
	prefixOperation = "op1"
	prefixDisk      = "epd"
	prefixSnapshot  = "fd8"
	prefixDesktopVM = "e3v"
	prefixAccount   = "aje"
)

// newID makes a 20-character id from the emulator's seeded generator, so a
// given seed always yields the same ids.
func newID(r *rand.Rand, prefix string) string {
	b := make([]byte, 0, 20)
	b = append(b, prefix...)
	for len(b) < 20 {
		b = append(b, idAlphabet[r.IntN(len(idAlphabet))])
	}
	return string(b)
}
