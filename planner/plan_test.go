package planner_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/planner"
	"github.com/imagedash/imagedash/store"
)

const gib = int64(1) << 30

var day = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// perms is a person who sees see and may copy into into.
type perms struct{ see, into []string }

func (p perms) CanView(f string) bool     { return slices.Contains(p.see, f) }
func (p perms) CanCopyInto(f string) bool { return slices.Contains(p.into, f) }

// copier sees gold, a and b (not secret) and copies into a, b and c.
var copier = perms{see: []string{"gold", "a", "b", "c"}, into: []string{"a", "b", "c"}}

func img(id, folder, name string) cloud.Image {
	return cloud.Image{Service: cloud.Compute, ID: id, FolderID: folder, Name: name, Family: "ubuntu", Status: "READY",
		Size: 2 * gib, CreatedAt: day, Labels: map[string]string{"os": "linux"}}
}

// fixture is a store with images in gold (sources), a (targets), secret
// (another team's), and an open copy making "busy" in b.
func fixture(t *testing.T, more ...cloud.Image) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	creating := img("src3", "gold", "creating")
	creating.Status = "CREATING"
	imgs := append([]cloud.Image{img("src1", "gold", "ubuntu"), img("src2", "gold", "debian"), creating,
		img("taken1", "a", "ubuntu-copy"), img("hid1", "secret", "their-image")}, more...)
	byFolder := map[string][]cloud.Image{}
	for _, i := range imgs {
		byFolder[i.FolderID] = append(byFolder[i.FolderID], i)
	}
	for f, is := range byFolder {
		if _, err := st.ReplaceFolderImages(ctx, cloud.Compute, f, is, day); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.CreateIntents(ctx, []store.Operation{{Key: "k1", Action: "image.copy", Service: cloud.Compute, FolderID: "b",
		ImageName: "busy", Request: []byte("{}"), NextPollAt: day.Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	return st
}

func folders(ids ...string) []planner.Folder {
	var out []planner.Folder
	for _, id := range ids {
		out = append(out, planner.Folder{ID: id, Name: "team-" + id})
	}
	return out
}

func ptr(s string) *string { return &s }

// problems is a plan's problems as "field: message" lines, the request's
// first, then each row's as "row i field: message".
func problems(p planner.Plan) []string {
	var out []string
	for _, pr := range p.Problems {
		out = append(out, pr.Field+": "+pr.Message)
	}
	for i, r := range p.Rows {
		for _, pr := range r.Problems {
			out = append(out, fmt.Sprintf("row %d %s: %s", i, pr.Field, pr.Message))
		}
	}
	return out
}

func TestPlan(t *testing.T) {
	st := fixture(t)
	pl := planner.New(st, func() time.Time { return day })
	tests := []struct {
		name  string
		who   perms
		req   planner.Request
		names []string // the rows' names, in order
		want  []string // each a substring of one problem, in order; none: accepted
	}{
		{name: "one copy", who: copier,
			req:   planner.Request{Sources: []string{"src1"}, Folders: folders("b"), Name: "{name}-{date}"},
			names: []string{"ubuntu-20261123"}},
		{name: "fan-out to three folders", who: copier,
			req:   planner.Request{Sources: []string{"src1"}, Folders: folders("a", "b", "c"), Name: "{folder}-{name}"},
			names: []string{"team-a-ubuntu", "team-b-ubuntu", "team-c-ubuntu"}},
		{name: "bulk", who: copier,
			req:   planner.Request{Sources: []string{"src1", "src2", "src1"}, Folders: folders("b"), Name: "{name}-x"},
			names: []string{"ubuntu-x", "debian-x"}},
		{name: "template unclosed", who: copier,
			req:   planner.Request{Sources: []string{"src1"}, Folders: folders("b"), Name: "{name"},
			names: []string{""}, want: []string{"name: The name template is wrong: a { is not closed."}},
		{name: "template unknown placeholder", who: copier,
			req:   planner.Request{Sources: []string{"src1"}, Folders: folders("b"), Name: "{owner}"},
			names: []string{""}, want: []string{"unknown placeholder {owner}"}},
		{name: "name breaks the rules", who: copier,
			req:   planner.Request{Sources: []string{"src1"}, Folders: folders("b"), Name: "{name}-COPY"},
			names: []string{"ubuntu-COPY"}, want: []string{"row 0 name: “ubuntu-COPY” will not do"}},
		{name: "taken by a cached image", who: copier,
			req:   planner.Request{Sources: []string{"src1"}, Folders: folders("a"), Name: "{name}-copy"},
			names: []string{"ubuntu-copy"}, want: []string{"row 0 name: An image named “ubuntu-copy” exists already in this folder (taken1)."}},
		{name: "taken by an operation in flight", who: copier,
			req:   planner.Request{Sources: []string{"src1"}, Folders: folders("b"), Name: "busy"},
			names: []string{"busy"}, want: []string{"row 0 name: An image named “busy” is being made in this folder right now."}},
		{name: "the same name twice in the plan", who: copier,
			req:   planner.Request{Sources: []string{"src1", "src2"}, Folders: folders("b"), Name: "same"},
			names: []string{"same", "same"}, want: []string{"row 1 name: “same” is also the new name of ubuntu"}},
		{name: "same name in two folders is fine", who: copier,
			req:   planner.Request{Sources: []string{"src1"}, Folders: folders("b", "c"), Name: "same"},
			names: []string{"same", "same"}},
		{name: "a Desktop image may take a Compute image's name", who: copier,
			req:   planner.Request{Kind: planner.ComputeToDesktop, Sources: []string{"src1"}, Folders: folders("a"), Name: "{name}-copy"},
			names: []string{"ubuntu-copy"}},
		{name: "vanished source", who: copier,
			req:   planner.Request{Sources: []string{"src1", "gone"}, Folders: folders("b"), Name: "{name}-x"},
			names: []string{"ubuntu-x", ""}, want: []string{"row 1 source: " + planner.MsgGone}},
		{name: "invisible source is missing", who: copier,
			req:   planner.Request{Sources: []string{"hid1"}, Folders: folders("b"), Name: "{name}-x"},
			names: []string{""}, want: []string{"row 0 source: " + planner.MsgGone}},
		{name: "not ready", who: copier,
			req:   planner.Request{Sources: []string{"src3"}, Folders: folders("b"), Name: "{name}-x"},
			names: []string{"creating-x"}, want: []string{"row 0 source: This image is Creating"}},
		{name: "folder not theirs", who: perms{see: []string{"gold", "b"}, into: nil},
			req:   planner.Request{Sources: []string{"src1"}, Folders: folders("b"), Name: "{name}-x"},
			names: []string{"ubuntu-x"}, want: []string{"folder: You may not copy into folder team-b."}},
		{name: "no folder", who: copier,
			req:  planner.Request{Sources: []string{"src1"}, Name: "{name}-x"},
			want: []string{"folder: " + planner.MsgNoFolder}},
		{name: "no source", who: copier,
			req:  planner.Request{Folders: folders("b"), Name: "{name}-x"},
			want: []string{"source: " + planner.MsgNoSource}},
		{name: "options", who: copier,
			req: planner.Request{Sources: []string{"src1"}, Folders: folders("b"), Name: "{name}-x",
				Description: ptr(strings.Repeat("d", 257)), Family: ptr("-bad"), MinDiskSize: gib},
			names: []string{"ubuntu-x"},
			want:  []string{"description: must be at most 256", "family: must be 3-63", "row 0 min_disk_size: The minimum disk size"}},
		{name: "added labels too many", who: copier,
			req: planner.Request{Sources: []string{"src1"}, Folders: folders("b"), Name: "{name}-x",
				AddLabels: manyLabels(64)},
			names: []string{"ubuntu-x"}, want: []string{"row 0 labels: With the added labels"}},
		{name: "every reason of every row", who: copier,
			req:   planner.Request{Sources: []string{"src1", "gone", "src3"}, Folders: folders("a"), Name: "{name}-copy"},
			names: []string{"ubuntu-copy", "", "creating-copy"},
			want:  []string{"row 0 name: An image named “ubuntu-copy” exists", "row 1 source: " + planner.MsgGone, "row 2 source: This image is Creating"}},
		{name: "plain name with braces", who: copier,
			req:   planner.Request{Kind: planner.DesktopToDesktop, Desktop: "e3v1", Folders: folders("a"), Name: "{x}", Plain: true},
			names: []string{"{x}"}, want: []string{"row 0 name: “{x}” will not do"}},
		{name: "from a desktop", who: copier,
			req:   planner.Request{Kind: planner.DesktopToDesktop, Desktop: "e3v1", Folders: folders("a"), Name: "from-desk", Plain: true},
			names: []string{"from-desk"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := pl.Plan(context.Background(), tt.who, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, r := range p.Rows {
				names = append(names, r.Name)
			}
			if !slices.Equal(names, tt.names) {
				t.Errorf("names = %q, want %q", names, tt.names)
			}
			got := problems(p)
			if len(got) != len(tt.want) {
				t.Fatalf("problems = %q, want %d like %q", got, len(tt.want), tt.want)
			}
			for i := range got {
				if !strings.Contains(got[i], tt.want[i]) {
					t.Errorf("problem %d = %q, want %q", i, got[i], tt.want[i])
				}
			}
			if refused := len(tt.want) > 0; p.Refused() != refused || (p.Intents() == nil) != refused {
				t.Errorf("Refused() = %v, %d intents; want refused %v", p.Refused(), len(p.Intents()), refused)
			}
			for _, r := range p.Rows {
				if r.Source.ID == "hid1" || strings.Contains(strings.Join(got, " "), "their-image") {
					t.Errorf("an invisible source is named: %+v", r)
				}
			}
		})
	}
}

func manyLabels(n int) map[string]string {
	out := map[string]string{}
	for i := range n {
		out[fmt.Sprintf("k%d", i)] = "v"
	}
	return out
}

// TestPlanIntents: an accepted plan's intents carry each row's folder and
// name and the options, in row order.
func TestPlanIntents(t *testing.T) {
	st := fixture(t)
	pl := planner.New(st, func() time.Time { return day })
	p, err := pl.Plan(context.Background(), copier, planner.Request{Sources: []string{"src1"}, Folders: folders("a", "b", "c"),
		Name: "{folder}-{name}", Description: ptr("copied"), AddLabels: map[string]string{"copied": "yes"}})
	if err != nil || p.Refused() {
		t.Fatalf("plan = %+v, %v", p, err)
	}
	ins := p.Intents()
	if len(ins) != 3 {
		t.Fatalf("%d intents, want 3", len(ins))
	}
	for i, r := range p.Rows {
		if r.Service != cloud.Compute || r.Folder.ID != []string{"a", "b", "c"}[i] || ins[i].Action() != "image.copy" {
			t.Errorf("row %d = %+v", i, r)
		}
	}
}

// TestFanOutRefusedWhole: a copy into three folders of which one already
// has the name is refused whole: every row is listed, and nothing is
// written (the store holds the same operations as before).
func TestFanOutRefusedWhole(t *testing.T) {
	st := fixture(t)
	ctx := context.Background()
	before, err := st.Operations(ctx, store.OperationQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	pl := planner.New(st, func() time.Time { return day })
	p, err := pl.Plan(ctx, copier, planner.Request{Sources: []string{"src1"}, Folders: folders("b", "a", "c"), Name: "{name}-copy"})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Refused() || p.Intents() != nil || len(p.Rows) != 3 || p.BadRows() != 1 || len(p.Rows[1].Problems) != 1 {
		t.Fatalf("plan = %+v; want refused, 3 rows, the second one bad", p)
	}
	after, err := st.Operations(ctx, store.OperationQuery{Limit: 100})
	if err != nil || len(after) != len(before) {
		t.Errorf("operations %d → %d, %v", len(before), len(after), err)
	}
}

// TestUniquenessIsExactBeyond10000: with 10 001 images named like the
// target plus a suffix in the folder, the real conflict is still found
// (the handlers' old check paged through text matches and said "free"
// after 10 000), and a free name is still free.
func TestUniquenessIsExactBeyond10000(t *testing.T) {
	var more []cloud.Image
	for i := range 10_001 {
		more = append(more, img(fmt.Sprintf("sim%05d", i), "c", fmt.Sprintf("ubuntu-copy-%05d", i)))
	}
	more = append(more, img("zreal", "c", "ubuntu-copy"))
	st := fixture(t, more...)
	pl := planner.New(st, func() time.Time { return day })
	p, err := pl.Plan(context.Background(), copier, planner.Request{Sources: []string{"src1", "src2"}, Folders: folders("c"), Name: "{name}-copy"})
	if err != nil {
		t.Fatal(err)
	}
	if got := problems(p); len(got) != 1 || !strings.Contains(got[0], "row 0 name: An image named “ubuntu-copy” exists already in this folder (zreal)") {
		t.Errorf("problems = %q", got)
	}
}
