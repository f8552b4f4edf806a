// Package static holds the dashboard's browser assets: vendored htmx and Pico
// CSS (pinned, see VERSIONS) and our own app.css. They are embedded so the
// binary is the whole deployment; the web package serves them under /static/
// with an immutable cache, which is safe because every URL carries a digest
// of the file's content (see URL).
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"sync"
)

// Asset file names, relative to FS.
const (
	HTMX    = "htmx-2.0.11.min.js"
	Pico    = "pico-2.1.1.min.css"
	AppCSS  = "app.css"
	Favicon = "favicon.svg"
)

// Prefix is where the web server mounts FS.
const Prefix = "/static/"

//go:embed *.js *.css *.svg
var files embed.FS

// FS returns the embedded assets. An embed.FS is read-only, so handing it out
// shares no mutable state.
func FS() fs.FS { return files }

// digests maps each file name to a short digest of its content. It is
// computed once from the embedded (constant) files and never changes after.
var digests = sync.OnceValue(func() map[string]string {
	out := map[string]string{}
	entries, _ := files.ReadDir(".") // an embed.FS root always reads
	for _, e := range entries {
		b, err := files.ReadFile(e.Name())
		if err != nil {
			continue
		}
		sum := sha256.Sum256(b)
		out[e.Name()] = hex.EncodeToString(sum[:6])
	}
	return out
})

// URL is the path a page should link to for the asset name: the mount
// prefix, the name and a ?v= digest of its content, so an edited app.css gets
// a new URL and browsers never keep a stale copy under the immutable cache.
// An unknown name gets no digest (and will 404).
func URL(name string) string {
	if d, ok := digests()[name]; ok {
		return Prefix + name + "?v=" + d
	}
	return Prefix + name
}
