package static

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"strings"
	"testing"
)

// TestVendoredAssets checks the vendored files against the sha256 that
// VERSIONS records, so an edit of a vendored file (or a VERSIONS left behind
// after an update) fails.
func TestVendoredAssets(t *testing.T) {
	versions, err := os.ReadFile("VERSIONS")
	if err != nil {
		t.Fatal(err)
	}
	checked := map[string]bool{}
	for _, line := range strings.Split(string(versions), "\n") {
		f := strings.Fields(line)
		if len(f) != 5 || strings.HasPrefix(line, "#") {
			continue
		}
		target, want := f[3], f[4]
		b, err := fs.ReadFile(FS(), target)
		if err != nil {
			t.Errorf("%s: %v", target, err)
			continue
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("%s sha256 = %s, VERSIONS says %s", target, got, want)
		}
		checked[target] = true
	}
	for _, name := range []string{HTMX, Pico} {
		if !checked[name] {
			t.Errorf("VERSIONS does not record %s", name)
		}
	}
}

func TestURL(t *testing.T) {
	for _, name := range []string{HTMX, Pico, AppCSS, Favicon} {
		b, err := fs.ReadFile(FS(), name)
		if err != nil {
			t.Fatalf("%s not embedded: %v", name, err)
		}
		sum := sha256.Sum256(b)
		want := Prefix + name + "?v=" + hex.EncodeToString(sum[:6])
		if got := URL(name); got != want {
			t.Errorf("URL(%q) = %q, want %q", name, got, want)
		}
	}
	if got := URL("missing.js"); got != "/static/missing.js" {
		t.Errorf("URL(missing) = %q", got)
	}
}
