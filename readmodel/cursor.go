package readmodel

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// cursor is the key of the row a page starts after (or ends before): the
// sort value and the id. It also names the sort it was made for, so a
// cursor cannot be replayed against another order.
type cursor struct {
	Sort  string          `json:"s"`
	Desc  bool            `json:"d,omitempty"`
	Value json.RawMessage `json:"v,omitempty"` // string or integer; absent for the id sort
	ID    string          `json:"i"`
}

// encode is the opaque text form: unpadded URL-safe base64 of JSON.
func (c cursor) encode() string {
	b, err := json.Marshal(c)
	if err != nil { // cannot happen: strings, a bool and a valid RawMessage
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// makeCursor is the cursor of the row with key k in column col.
func makeCursor(col column, desc bool, k key) string {
	c := cursor{Sort: col.name(), Desc: desc, ID: k.id}
	if col != colID {
		var v any = k.s
		if col.numeric() {
			v = k.n
		}
		b, err := json.Marshal(v)
		if err != nil {
			panic(err) // v is a string or an int64
		}
		c.Value = b
	}
	return c.encode()
}

// parseCursor checks that s is a cursor for this sort and direction and
// returns its key. Anything else is an ErrBadCursor.
func parseCursor(s string, col column, desc bool) (key, error) {
	bad := func(why string) (key, error) {
		return key{}, fmt.Errorf("%w: %s", ErrBadCursor, why)
	}
	if len(s) > 4096 {
		return bad("too long")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return bad("not base64")
	}
	var c cursor
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil || dec.More() {
		return bad("not a cursor")
	}
	if c.Sort != col.name() || c.Desc != desc {
		return bad("made for another sort order")
	}
	if c.ID == "" {
		return bad("no id")
	}
	if col == colID {
		if c.Value != nil {
			return bad("unexpected value")
		}
		return key{id: c.ID}, nil
	}
	if len(c.Value) == 0 || string(c.Value) == "null" {
		return bad("no value")
	}
	if col.numeric() {
		var n int64
		if err := json.Unmarshal(c.Value, &n); err != nil {
			return bad("value is not an integer")
		}
		return key{n: n, id: c.ID}, nil
	}
	var str string
	if err := json.Unmarshal(c.Value, &str); err != nil {
		return bad("value is not a string")
	}
	return key{s: str, id: c.ID}, nil
}
