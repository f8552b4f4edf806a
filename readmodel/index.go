package readmodel

import (
	"hash/maphash"

	"github.com/RoaringBitmap/roaring/v2"
)

// index maps a value to the bitmap of the documents that have it, in
// shards so that a change copies the maps of the values it touches only
// (a map of every label pair would cost milliseconds to copy).
type index struct {
	shards *[indexShards]*indexShard
}

const indexShards = 64

type indexShard struct {
	owner uint64
	m     map[string]*roaring.Bitmap
}

// seed hashes values to shards; fixed, so every snapshot agrees.
var seed = maphash.MakeSeed()

func shardOf(v string) int { return int(maphash.String(seed, v) % indexShards) }

func (x index) get(v string) *roaring.Bitmap {
	if x.shards == nil {
		return nil
	}
	sh := x.shards[shardOf(v)]
	if sh == nil {
		return nil
	}
	return sh.m[v]
}

// each calls f for every value and its bitmap.
func (x index) each(f func(v string, b *roaring.Bitmap)) {
	if x.shards == nil {
		return
	}
	for _, sh := range x.shards {
		if sh == nil {
			continue
		}
		for v, b := range sh.m {
			f(v, b)
		}
	}
}

// writable is the map of v's shard, copied first unless owner made it;
// x's shard array must be owner's (see part.writable).
func (x *index) writable(owner uint64, v string) map[string]*roaring.Bitmap {
	i := shardOf(v)
	sh := x.shards[i]
	switch {
	case sh == nil:
		sh = &indexShard{owner: owner, m: map[string]*roaring.Bitmap{}}
		x.shards[i] = sh
	case sh.owner != owner:
		m := make(map[string]*roaring.Bitmap, len(sh.m)+1)
		for k, b := range sh.m {
			m[k] = b
		}
		sh = &indexShard{owner: owner, m: m}
		x.shards[i] = sh
	}
	return sh.m
}
