package handlers

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/views"
)

// Audit log paging and export bounds.
const (
	// auditPageSize is the entries on one page of the audit log.
	auditPageSize = 50
	// maxAuditExport caps a CSV export: a spreadsheet cannot do much with
	// more, and a narrower time range gets the rest.
	maxAuditExport = 100_000
	// maxAuditFilterLen bounds each text filter.
	maxAuditFilterLen = 200
)

// auditActions are offered while typing the action filter.
var auditActions = []string{
	"login", "logout",
	"user.create", "user.disable", "user.enable", "user.password", "user.admin", "user.sessions_end", "user.delete",
	"team.create", "team.delete", "team.member_add", "team.member_remove", "team.folder_assign", "team.folder_unassign",
	"folder.share", "folder.unshare", "audit.export", "session.end", "session.end_others",
}

// auditTimeLayouts are the forms a from/to filter may take, each with its
// precision: a "to" is inclusive at the precision given, so to=2026-11-23
// takes the whole day and to=…T15:04 the whole minute.
var auditTimeLayouts = []struct {
	layout string
	step   time.Duration
}{
	{"2006-01-02", 24 * time.Hour},
	{"2006-01-02T15:04", time.Minute},
	{"2006-01-02T15:04:05", time.Second},
}

// parseAuditTime reads a from/to filter as UTC; to moves it to the end of
// its precision (exclusive), as the store wants.
func parseAuditTime(v string, to bool) (time.Time, bool) {
	for _, l := range auditTimeLayouts {
		if t, err := time.Parse(l.layout, v); err == nil {
			if to {
				t = t.Add(l.step)
			}
			return t, true
		}
	}
	return time.Time{}, false
}

// parseAuditFilter reads the audit log's filters and cursor from the query
// string: the store query, the form as typed, and a message per bad field.
func parseAuditFilter(v url.Values) (store.AuditQuery, views.AuditFilter, views.FieldErrors, error) {
	f := views.AuditFilter{
		User:    strings.TrimSpace(v.Get("user")),
		Action:  strings.TrimSpace(v.Get("action")),
		Target:  strings.TrimSpace(v.Get("target")),
		Outcome: v.Get("outcome"),
		From:    strings.TrimSpace(v.Get("from")),
		To:      strings.TrimSpace(v.Get("to")),
	}
	q := store.AuditQuery{User: f.User, Action: f.Action, Target: f.Target, Outcome: store.Outcome(f.Outcome)}
	errs := views.FieldErrors{}
	for _, p := range []struct{ name, v string }{{"user", f.User}, {"action", f.Action}, {"target", f.Target}} {
		if len(p.v) > maxAuditFilterLen {
			errs[p.name] = fmt.Sprintf("At most %d characters.", maxAuditFilterLen)
		}
	}
	if f.Outcome != "" && !slices.Contains(views.Outcomes, f.Outcome) {
		errs["outcome"] = "Pick success, failure or denied."
	}
	var ok bool
	if f.From != "" {
		if q.From, ok = parseAuditTime(f.From, false); !ok {
			errs["from"] = "A date (2026-11-23) or a date and time (2026-11-23T15:04)."
		}
	}
	if f.To != "" {
		if q.To, ok = parseAuditTime(f.To, true); !ok {
			errs["to"] = "A date (2026-11-23) or a date and time (2026-11-23T15:04)."
		}
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		errs["to"] = "Must be after From."
	}
	if b := v.Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			// Only a link we made has a cursor: a bad one is a bad address.
			return q, f, errs, fault.New(fault.BadRequest, "This page of the audit log does not exist: start again from the newest entries.")
		}
		q.Before = n
	}
	return q, f, errs, nil
}

// ListAudit shows the audit log, newest first, filtered by person, action,
// target, outcome and time, a page at a time (GET /admin/audit). The URL
// holds the whole state; an HTMX request gets the region alone.
func (h *Handlers) ListAudit(c echo.Context) error {
	if err := h.adminOnly(c); err != nil {
		return err
	}
	q, f, errs, err := parseAuditFilter(c.QueryParams())
	if err != nil {
		return err
	}
	p := views.AuditPage{Filter: f, Errors: errs, Before: q.Before, Actions: auditActions,
		RetentionDays: int(h.auditRetention / (24 * time.Hour))}
	if len(errs) > 0 {
		NoPush(c.Response().Header())
		return Render(c, http.StatusUnprocessableEntity, views.AuditFull(p), views.AuditPartial(p))
	}
	// One more than a page tells whether there is an older one.
	q.Limit = auditPageSize + 1
	es, err := h.people.AuditLog(c.Request().Context(), q)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	if len(es) > auditPageSize {
		es = es[:auditPageSize]
		p.Older = es[len(es)-1].ID
	}
	for _, e := range es {
		r := views.AuditRow{
			ID: e.ID, User: e.Username, IP: e.IP, Action: e.Action, TargetID: e.TargetID,
			Target: strings.TrimSpace(e.TargetKind + " " + e.TargetID), OperationID: e.OperationID,
			Outcome: string(e.Outcome), Detail: e.Detail, Count: e.Count,
		}
		r.At, r.AtExact, r.AtISO = h.adminTimes(e.At)
		_, r.LastExact, _ = h.adminTimes(e.LastAt)
		p.Rows = append(p.Rows, r)
	}
	PushURL(c, p.URL(), canonicalAudit)
	return Render(c, http.StatusOK, views.AuditFull(p), views.AuditPartial(p))
}

// canonicalAudit is the canonical form of an audit log address, "" when it
// is not one.
func canonicalAudit(raw string) string {
	u, err := parseURL(raw)
	if err != nil || u.Path != "/admin/audit" {
		return ""
	}
	q, f, errs, err := parseAuditFilter(u.Query())
	if err != nil || len(errs) > 0 {
		return ""
	}
	return views.AuditURL(f, q.Before)
}

// auditCSVHeader is the export's first row.
var auditCSVHeader = []string{"id", "time", "user_id", "username", "ip", "action", "target_kind", "target_id",
	"operation_id", "outcome", "detail", "count", "last_time"}

// ExportAudit streams what the audit log's filters select as CSV, newest
// first, page by page, up to maxAuditExport rows (GET /admin/audit.csv).
func (h *Handlers) ExportAudit(c echo.Context) error {
	if err := h.adminOnly(c); err != nil {
		return err
	}
	q, _, errs, err := parseAuditFilter(c.QueryParams())
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return fault.New(fault.Invalid, "Check the filters: "+strings.TrimPrefix(invalidInput(errs), "invalid input: "))
	}
	ctx := c.Request().Context()
	q.Limit = store.MaxAuditLimit
	// The first page before the headers: a failing store still gets a
	// clean error page.
	page, err := h.people.AuditLog(ctx, q)
	if err != nil {
		return fmt.Errorf("export audit log: %w", err)
	}
	hdr := c.Response().Header()
	hdr.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	hdr.Set(echo.HeaderContentDisposition,
		fmt.Sprintf(`attachment; filename="imagedash-audit-%s.csv"`, h.now().UTC().Format("20060102-150405")))
	hdr.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)

	w := csv.NewWriter(c.Response())
	n, err := writeAuditCSV(w, page, func(before int64) ([]store.AuditEntry, error) {
		q.Before = before
		return h.people.AuditLog(ctx, q)
	})
	outcome, detail := store.OutcomeSuccess, fmt.Sprintf("exported %d entries", n)
	if err != nil {
		outcome, detail = store.OutcomeFailure, fmt.Sprintf("export stopped after %d entries", n)
	}
	h.audit(c, store.AuditEntry{Action: "audit.export", TargetKind: "audit", Outcome: outcome, Detail: detail})
	if err != nil {
		// The status is sent; the error handler will leave the response
		// alone, and the log says why the file is short.
		return fmt.Errorf("export audit log: %w", err)
	}
	return nil
}

// writeAuditCSV writes the header and the entries of first and the pages
// after it (next gets the page of entries older than an id), until a short
// page or maxAuditExport rows; it flushes after every page, so a long
// export streams. It returns the rows written.
func writeAuditCSV(w *csv.Writer, first []store.AuditEntry, next func(before int64) ([]store.AuditEntry, error)) (int, error) {
	if err := w.Write(auditCSVHeader); err != nil {
		return 0, err
	}
	n := 0
	for page := first; ; {
		for _, e := range page {
			if n == maxAuditExport {
				break
			}
			rec := []string{
				strconv.FormatInt(e.ID, 10),
				e.At.UTC().Format(time.RFC3339Nano),
				strconv.FormatInt(e.UserID, 10),
				csvText(e.Username), csvText(e.IP), csvText(e.Action), csvText(e.TargetKind), csvText(e.TargetID),
				csvText(e.OperationID), string(e.Outcome), csvText(e.Detail),
				strconv.FormatInt(max(e.Count, 1), 10), e.LastAt.UTC().Format(time.RFC3339Nano),
			}
			if e.LastAt.IsZero() {
				rec[12] = rec[1]
			}
			if e.UserID == 0 {
				rec[2] = ""
			}
			if err := w.Write(rec); err != nil {
				return n, err
			}
			n++
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return n, err
		}
		if len(page) < store.MaxAuditLimit || n == maxAuditExport {
			return n, nil
		}
		var err error
		if page, err = next(page[len(page)-1].ID); err != nil {
			return n, err
		}
		if len(page) == 0 {
			return n, nil
		}
	}
}

// csvText defuses a cell a spreadsheet would run as a formula (OWASP "CSV
// injection"): usernames of failed logins and details are typed by anyone.
// A spreadsheet may split a line on ',' ';' or TAB (';' is the default in
// Russian, German and French locales), and may read a CR or LF inside a
// quoted cell as a new line, so a formula can start not only at the
// beginning of the cell but after any of those. Wherever a piece begins
// (after leading spaces and double quotes, which a spreadsheet drops) with
// = + - or @, an apostrophe goes before that character: spreadsheets take
// a leading apostrophe as "text, not a formula" and do not show it. A cell
// that starts with TAB or CR gets one in front as well (the OWASP rule).
// encoding/csv does the quoting.
func csvText(s string) string {
	var b strings.Builder
	if s != "" && (s[0] == '\t' || s[0] == '\r') {
		b.WriteByte('\'')
	}
	piece := true // at the start of a piece, before its first significant byte
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if piece && strings.IndexByte(csvFormulaStart, ch) >= 0 {
			b.WriteByte('\'')
		}
		b.WriteByte(ch)
		switch {
		case strings.IndexByte(csvSeparators, ch) >= 0:
			piece = true
		case ch == ' ' || ch == '"':
		default:
			piece = false
		}
	}
	return b.String()
}

// csvFormulaStart are the bytes a formula starts with; csvSeparators are
// those after which a spreadsheet may start a new cell.
const (
	csvFormulaStart = "=+-@"
	csvSeparators   = ",;\t\r\n"
)
