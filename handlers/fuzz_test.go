package handlers

// Fuzz targets for every parser the handlers own (issue #6, hostile
// input). Each runs its seed corpus (f.Add and testdata/fuzz) as an
// ordinary test under go test; go test -fuzz FuzzX explores further.
// FuzzNameTemplate is in nametemplate_test.go.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/rules"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/tracker"
	"github.com/imagedash/imagedash/views"
)

// fuzzSep splits one fuzzed string into the values of a repeated
// parameter (folder=…&folder=…).
const fuzzSep = "\x1e"

// fuzzFolder is the folder of fuzzStore's images.
const fuzzFolder = "b1gfuzz0000000000000"

// fuzzStore is a small store on a temp file: a few images of each service
// with labels and families, a few audit entries and operations, so that
// the fuzzed queries run against real rows.
func fuzzStore(f *testing.F) *store.Store {
	f.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	if err := st.SaveFolders(ctx, []cloud.Folder{{ID: fuzzFolder, CloudID: "b1gcloud", Name: "fuzz"}}); err != nil {
		f.Fatal(err)
	}
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for _, svc := range []cloud.Service{cloud.Compute, cloud.Desktop, cloud.BareMetal} {
		var imgs []cloud.Image
		for i := range 5 {
			imgs = append(imgs, cloud.Image{
				Service: svc, ID: fmt.Sprintf("fd8fuzz%s%010d", svc[:1], i), FolderID: fuzzFolder,
				Name: fmt.Sprintf("image-%d", i), Description: "a \"quoted\" 'text' image-99*", Status: "READY",
				Family: "ubuntu-2404", OS: "LINUX", Labels: map[string]string{"env": "prod", "gpu": ""},
				CreatedAt: at.Add(-time.Duration(i) * time.Hour),
			})
		}
		if _, err := st.ReplaceFolderImages(ctx, svc, fuzzFolder, imgs, at); err != nil {
			f.Fatal(err)
		}
	}
	for i, o := range []store.Outcome{store.OutcomeSuccess, store.OutcomeFailure, store.OutcomeDenied} {
		if _, err := st.AppendAudit(ctx, store.AuditEntry{At: at.Add(time.Duration(i) * time.Minute), Username: "root",
			Action: "login", TargetKind: "user", TargetID: "root", Outcome: o}); err != nil {
			f.Fatal(err)
		}
	}
	if _, err := st.CreateIntent(ctx, store.Operation{Key: "fuzz-op", Action: tracker.ActionUpdate, Service: cloud.Compute,
		FolderID: fuzzFolder, ImageID: "fd8fuzzc0000000000", Request: []byte(`{}`), Username: "root"}); err != nil {
		f.Fatal(err)
	}
	return st
}

// storeErrOK reports whether err is an answer the store may give a query
// built from people's input: nothing, a bad cursor or an invalid argument.
// Anything else (an SQL or FTS syntax error) means the input broke a query.
func storeErrOK(err error) bool {
	return err == nil || errors.Is(err, store.ErrBadCursor) || errors.Is(err, store.ErrInvalid)
}

// check400 fails unless err is a 400 with a message for people.
func check400(t *testing.T, what string, err error) {
	t.Helper()
	fe, ok := errors.AsType[*fault.Error](err)
	if !ok {
		t.Fatalf("%s: error %v (%T) is not a *fault.Error", what, err, err)
	}
	if fe.Status() != http.StatusBadRequest || strings.TrimSpace(fe.Message) == "" {
		t.Fatalf("%s: error %d %q, want 400 with a message", what, fe.Status(), fe.Message)
	}
}

// FuzzImageFilter: the image list's query either is a 400 with a message,
// or a filter whose canonical URL parses back to the same filter; the
// store runs the query it makes without an SQL error.
func FuzzImageFilter(f *testing.F) {
	type seed struct{ service, folder, q, status, family, os, label, sort, dir, limit, after, before, start string }
	for _, s := range []seed{
		{},
		{service: "compute", folder: fuzzFolder, q: "ubuntu", status: "READY", family: "ubuntu-2404", os: "LINUX",
			label: "env=prod", sort: "name", dir: "asc", limit: "25", start: "26"},
		{service: "desktop", q: `image-99*`, label: "gpu", sort: "created_at", dir: "desc"},
		{service: "baremetal", status: "READY" + fuzzSep + "ERROR", label: " env = prod " + fuzzSep + "env=prod"},
		{q: `"unbalanced`, after: "garbage"},
		{q: `' OR 1=1 --`, before: "eyJ4IjoxfQ"},
		{q: `"; DROP TABLE images; --`, label: "k=v=w"},
		{q: "NEAR(a b) AND NOT c OR d* ^e {f} :g", family: "x"},
		{q: "\x00\x1b\r\n", label: "=v"},
		{q: "\xff\xfe", folder: "\xff"},
		{q: "ūnĭcödé \u202eRTL\u202c 😀 e\u0301", label: "ключ=значение"},
		{q: strings.Repeat("a", 201)},
		{limit: "+50", start: "1"},
		{limit: "50", start: "+1"},
		{dir: "asc"},
		{sort: "size", service: "desktop"},
		{after: "a", before: "b"},
		{start: "0"},
		{start: "-1"},
		{limit: "99999999999999999999"},
		{os: "windows"},
		{service: "floppy"},
		{after: strings.Repeat("c", maxCursor+1)},
		{label: "<script>alert(1)</script>"},
		{family: "UPPER"},
	} {
		f.Add(s.service, s.folder, s.q, s.status, s.family, s.os, s.label, s.sort, s.dir, s.limit, s.after, s.before, s.start)
	}
	st := fuzzStore(f)
	f.Fuzz(func(t *testing.T, service, folder, q, status, family, os, label, sort, dir, limit, after, before, start string) {
		v := url.Values{}
		for name, s := range map[string]string{"service": service, "q": q, "os": os, "sort": sort, "dir": dir,
			"limit": limit, "after": after, "before": before, "start": start} {
			if s != "" {
				v.Set(name, s)
			}
		}
		for name, s := range map[string]string{"folder": folder, "status": status, "family": family, "label": label} {
			if s != "" {
				v[name] = strings.Split(s, fuzzSep)
			}
		}
		flt, err := parseImageFilter(v)
		if err != nil {
			check400(t, "parseImageFilter("+v.Encode()+")", err)
			return
		}
		canon := flt.URL()
		u, err := url.Parse(canon)
		if err != nil {
			t.Fatalf("canonical URL %q does not parse: %v", canon, err)
		}
		again, err := parseImageFilter(u.Query())
		if err != nil {
			t.Fatalf("canonical URL %q of %s is refused: %v", canon, v.Encode(), err)
		}
		if !reflect.DeepEqual(again, flt) {
			t.Fatalf("%s → %q → %+v, want %+v", v.Encode(), canon, again, flt)
		}
		if c := canonicalList(canon); c != canon {
			t.Fatalf("canonicalList(%q) = %q", canon, c)
		}
		sq := storeQuery(flt)
		if _, err := st.Images(context.Background(), sq); !storeErrOK(err) {
			t.Fatalf("store.Images(%+v): %v", sq, err)
		}
		sq.After, sq.Before = "", ""
		if _, err := st.Facets(context.Background(), sq); !storeErrOK(err) {
			t.Fatalf("store.Facets(%+v): %v", sq, err)
		}
	})
}

// FuzzLabelFilter: a label filter ("key=value" or "key") is a 400 with a
// message, or a filter that passes the label rules, prints back to a form
// that parses to the same filter, and runs in the store.
func FuzzLabelFilter(f *testing.F) {
	for _, s := range []string{"env=prod", "gpu", "env=", "=prod", " env = prod ", "k=v=w", "Env=prod", "env=PROD",
		"", "=", "a b=c", "k=\x00", "ключ=значение", "😀=1", strings.Repeat("k", 64) + "=v", "k=" + strings.Repeat("v", 64),
		`k=' OR 1=1 --`, `"; DROP TABLE images; --`, "k=<script>", "\xff=\xfe"} {
		f.Add(s)
	}
	st := fuzzStore(f)
	f.Fuzz(func(t *testing.T, s string) {
		lf, err := parseLabel(s)
		if err != nil {
			check400(t, fmt.Sprintf("parseLabel(%q)", s), err)
			return
		}
		if vs := rules.Label("label", lf.Key, lf.Value); len(vs) > 0 {
			t.Fatalf("parseLabel(%q) accepted %+v, which breaks the rules: %v", s, lf, vs)
		}
		back := labelString(lf)
		again, err := parseLabel(back)
		if err != nil || again != lf {
			t.Fatalf("parseLabel(%q) = %+v → %q → %+v, %v", s, lf, back, again, err)
		}
		q := store.ImageQuery{Service: cloud.Compute, Labels: []store.LabelFilter{lf}, Limit: 10}
		if _, err := st.Images(context.Background(), q); !storeErrOK(err) {
			t.Fatalf("store.Images with label %+v: %v", lf, err)
		}
	})
}

// FuzzLabelRows: the label editor's rows never panic the decoder; the
// labels it accepts always pass the rules when it reports no message, each
// label on its own in any case, and every refused row has a message.
func FuzzLabelRows(f *testing.F) {
	for _, s := range [][2]string{
		{"env", "prod"},
		{"env" + fuzzSep + "team", "prod" + fuzzSep + "a"},
		{"env" + fuzzSep + "env", "a" + fuzzSep + "b"},
		{"" + fuzzSep + "k", "v" + fuzzSep + ""},
		{" env ", " prod "},
		{"Env", "x"},
		{"k", ""},
		{"k" + fuzzSep + "l" + fuzzSep + "m", "only-one"},
		{"", ""},
		{"\x00", "\x1b"},
		{"ключ", "значение"},
		{"<script>", "alert(1)"},
		{strings.Repeat("k"+fuzzSep, 70), ""},
		{"\xff", "\xfe"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, keys, vals string) {
		form := url.Values{"label_key": strings.Split(keys, fuzzSep), "label_value": strings.Split(vals, fuzzSep)}
		fe := FieldErrors{}
		labels, rows := parseLabelRows(form, fe)
		for k, v := range labels {
			if vs := rules.Label("labels", k, v); len(vs) > 0 {
				t.Fatalf("accepted label %q=%q breaks the rules: %v", k, v, vs)
			}
			if strings.TrimSpace(k) != k || strings.TrimSpace(v) != v {
				t.Fatalf("accepted label %q=%q is not trimmed", k, v)
			}
		}
		if len(fe) == 0 {
			if vs := rules.Labels("labels", labels); len(vs) > 0 {
				t.Fatalf("no message, but the labels %v break the rules: %v", labels, vs)
			}
		}
		refused := 0
		for _, r := range rows {
			if r.Error != "" {
				refused++
				if _, ok := labels[r.Key]; ok && r.Key == "" {
					t.Fatalf("row %+v refused but its key was kept", r)
				}
			}
		}
		if refused > 0 && len(fe) == 0 {
			t.Fatalf("%d rows refused without a message in the form: %+v", refused, rows)
		}
		if len(rows) < len(labels) {
			t.Fatalf("%d rows for %d labels", len(rows), len(labels))
		}
	})
}

// FuzzEditForm: the edit form's hidden fields and size field never panic
// their decoders; damaged hidden fields are a 400 with a message; good
// ones read back from the form a page would render for them.
func FuzzEditForm(f *testing.F) {
	for _, s := range [][6]string{
		{"compute", "name", "desc", "21474836480", `{"env":"prod"}`, "20"},
		{"desktop", "", "", "", "", ""},
		{"baremetal", "n", "d", "0", `{}`, "0.5"},
		{"compute", "n", "d", "x", `{"a":"b"}`, "1e400"},
		{"compute", "n", "d", "-1", `null`, "NaN"},
		{"compute", "n", "d", "9223372036854775807", `{"a":1}`, "-Inf"},
		{"compute", "n", "d", "1", `["a"]`, "0x10"},
		{"compute", "n", "d", "1", `{"a":"\ud800"}`, "  20  "},
		{"compute", "\x00", "\r\n", "1", "{\"\xff\":\"\"}", "1_000"},
		{"compute", "<script>", "' OR 1=1 --", "1", `{"a":"b","a":"c"}`, "4096.0000000001"},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4], s[5])
	}
	f.Fuzz(func(t *testing.T, service, name, desc, minDisk, labels, gib string) {
		svc := cloud.Service(service)
		if !svc.Valid() {
			svc = cloud.Compute
		}
		form := url.Values{"orig_name": {name}, "orig_description": {desc}, "orig_min_disk": {minDisk}, "orig_labels": {labels}}
		v, err := openedValues(form, svc)
		if err != nil {
			check400(t, fmt.Sprintf("openedValues(%s)", form.Encode()), err)
		} else {
			o := v.opened()
			back := url.Values{"orig_name": {o.Name}, "orig_description": {o.Description}, "orig_min_disk": {o.MinDisk}, "orig_labels": {o.Labels}}
			again, err := openedValues(back, svc)
			if err != nil {
				t.Fatalf("the form's own hidden fields %s are refused: %v", back.Encode(), err)
			}
			if again.name != v.name || again.description != v.description || again.minDisk != v.minDisk || !maps.Equal(again.labels, v.labels) {
				t.Fatalf("hidden fields %+v read back as %+v", v, again)
			}
		}
		b, ok := parseGiB(strings.TrimSpace(gib))
		if !ok {
			return
		}
		if lim := int64(1<<20) << 30; b > lim || b < -lim {
			t.Fatalf("parseGiB(%q) = %d, beyond its clamp", gib, b)
		}
		if b > 0 {
			if again, ok := parseGiB(gibText(b)); !ok || again != b {
				t.Fatalf("parseGiB(%q) = %d; gibText %q reads back as %d, %v", gib, b, gibText(b), again, ok)
			}
		}
	})
}

// FuzzAuditFilter: the audit log's filter never panics; a bad cursor is a
// 400 with a message; a filter without messages has a canonical URL that
// parses back to the same filter, and runs in the store.
func FuzzAuditFilter(f *testing.F) {
	for _, s := range [][7]string{
		{"", "", "", "", "", "", ""},
		{"root", "login", "user root", "success", "2026-11-01", "2026-11-23", "10"},
		{" root ", "user.create", "", "denied", "2026-11-23T15:04", "2026-11-23T15:04:05", ""},
		{"r%", "_", "%", "nope", "yesterday", "2026-13-01", "0"},
		{`' OR 1=1 --`, `"; DROP TABLE audit; --`, "<script>", "", "2026-11-23", "2026-11-22", "-1"},
		{strings.Repeat("u", 201), "", "", "", "", "", "x"},
		{"\x00", "\x1b", "\r\n", "\xff", "0000-01-01", "9999-12-31T23:59:59", "9223372036854775807"},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4], s[5], s[6])
	}
	st := fuzzStore(f)
	f.Fuzz(func(t *testing.T, user, action, target, outcome, from, to, before string) {
		v := url.Values{}
		for name, s := range map[string]string{"user": user, "action": action, "target": target, "outcome": outcome,
			"from": from, "to": to, "before": before} {
			if s != "" {
				v.Set(name, s)
			}
		}
		q, flt, errs, err := parseAuditFilter(v)
		if err != nil {
			check400(t, "parseAuditFilter("+v.Encode()+")", err)
			return
		}
		for k, msg := range errs {
			if msg == "" {
				t.Fatalf("field %s has an empty message", k)
			}
		}
		if len(errs) > 0 {
			return
		}
		canon := views.AuditURL(flt, q.Before)
		u, err := url.Parse(canon)
		if err != nil {
			t.Fatalf("canonical URL %q does not parse: %v", canon, err)
		}
		q2, f2, errs2, err := parseAuditFilter(u.Query())
		if err != nil || len(errs2) > 0 || !reflect.DeepEqual(q2, q) || f2 != flt {
			t.Fatalf("%s → %q → %+v %+v %v %v, want %+v %+v", v.Encode(), canon, q2, f2, errs2, err, q, flt)
		}
		q.Limit = 10
		if _, err := st.AuditLog(context.Background(), q); !storeErrOK(err) {
			t.Fatalf("store.AuditLog(%+v): %v", q, err)
		}
	})
}

// FuzzOpsFilter: the operations monitor's filter, as FuzzAuditFilter.
func FuzzOpsFilter(f *testing.F) {
	for _, s := range [][8]string{
		{"", "", "", "", "", "", "", ""},
		{"root", tracker.ActionUpdate, "compute", fuzzFolder, views.OpStateOpen, "2026-11-01", "2026-11-23", "5"},
		{" root ", tracker.ActionCopy, "desktop", " " + fuzzFolder + " ", views.OpStateProblem, "", "", ""},
		{"", "", "", "", string(store.OpRunning), "2026-11-23T15:04", "2026-11-23T15:04", ""},
		{"", "", "", "", string(store.OpFailed), "", "", ""},
		{"r%_", "nope", "floppy", "bad folder", "nope", "x", "y", "0"},
		{`' OR 1=1 --`, `"; DROP TABLE operations; --`, "<script>", "\x00", "\x1b", "\r\n", "\xff", "-5"},
		{strings.Repeat("u", 201), "", "", strings.Repeat("f", 51), "", "", "", "1e3"},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7])
	}
	st := fuzzStore(f)
	f.Fuzz(func(t *testing.T, user, action, service, folder, state, from, to, before string) {
		v := url.Values{}
		for name, s := range map[string]string{"user": user, "action": action, "service": service, "folder": folder,
			"state": state, "from": from, "to": to, "before": before} {
			if s != "" {
				v.Set(name, s)
			}
		}
		flt, cursor, errs, err := parseOpsFilter(v)
		if err != nil {
			check400(t, "parseOpsFilter("+v.Encode()+")", err)
			return
		}
		for k, msg := range errs {
			if msg == "" {
				t.Fatalf("field %s has an empty message", k)
			}
		}
		if len(errs) > 0 {
			return
		}
		canon := views.OpsURL(flt, cursor)
		u, err := url.Parse(canon)
		if err != nil {
			t.Fatalf("canonical URL %q does not parse: %v", canon, err)
		}
		f2, c2, errs2, err := parseOpsFilter(u.Query())
		if err != nil || len(errs2) > 0 || f2 != flt || c2 != cursor {
			t.Fatalf("%s → %q → %+v %d %v %v, want %+v %d", v.Encode(), canon, f2, c2, errs2, err, flt, cursor)
		}
		if c := canonicalOps(canon); c != canon {
			t.Fatalf("canonicalOps(%q) = %q", canon, c)
		}
		var folders []string
		if flt.Folder != "" {
			folders = []string{flt.Folder}
		}
		inflight, history := opsQueries(flt, folders)
		for _, q := range []*store.OperationQuery{inflight, history} {
			if q == nil {
				continue
			}
			q.Before, q.Limit = cursor, 10
			if _, err := st.Operations(context.Background(), *q); !storeErrOK(err) {
				t.Fatalf("store.Operations(%+v): %v", *q, err)
			}
		}
	})
}

// FuzzSafeNext: the sign-in page's return address is always a path on
// this site, never another host (an open redirect).
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "/images/compute/x", "//evil.example", "https://evil.example", "/\\evil", "/%2f%2fevil",
		"/login", "/logout?x", "javascript:alert(1)", "/\r\nSet-Cookie: x", "/?next=//evil", "/\x00", "", "/" + strings.Repeat("a", 3000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := safeNext(s)
		if got != "/" && got != s {
			t.Fatalf("safeNext(%q) = %q: neither the address nor /", s, got)
		}
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") ||
			strings.ContainsAny(got, "\\\r\n") {
			t.Fatalf("safeNext(%q) = %q leaves the site", s, got)
		}
		if lu := LoginURL(s); !strings.HasPrefix(lu, "/login") {
			t.Fatalf("LoginURL(%q) = %q", s, lu)
		}
	})
}

// FuzzAdminFields: the admin forms' field checks never panic, and what
// they accept is what the store accepts (names) or a folder id.
func FuzzAdminFields(f *testing.F) {
	for _, s := range []string{"root", "", " root", "a\x00b", "ключ", strings.Repeat("n", 65), "\xff", "b1gfolder0000000000a",
		"correct horse battery", "<script>alert(1)</script>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if msg := checkAccountName(s); msg == "" {
			if !utf8.ValidString(s) || s == "" || strings.TrimSpace(s) != s || utf8.RuneCountInString(s) > adminMaxName {
				t.Fatalf("checkAccountName(%q) accepted it", s)
			}
		}
		_ = checkNewPassword(s)
		if msg := checkFolderID(s); msg == "" {
			if vs := rules.ID("folder", s, true); len(vs) > 0 {
				t.Fatalf("checkFolderID(%q) accepted a bad id: %v", s, vs)
			}
		}
		if got := auditClip(s); len(got) > 100+len("…") {
			t.Fatalf("auditClip(%q) is %d bytes", s, len(got))
		}
	})
}
