package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
)

// explain is the EXPLAIN QUERY PLAN of query, one line a step, indented by depth.
func explain(tb testing.TB, db *sql.DB, query string, args ...any) string {
	tb.Helper()
	rows, err := db.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		tb.Fatalf("explain %s: %v", query, err)
	}
	defer rows.Close()
	depth := map[int]int{}
	var b strings.Builder
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			tb.Fatal(err)
		}
		depth[id] = depth[parent] + 1
		b.WriteString(strings.Repeat("  ", depth[id]) + detail + "\n")
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return b.String()
}

// TestExplainListBench prints the plans of the list benchmark's queries
// (IMAGEDASH_EXPLAIN=1; seeds 100 000 images).
func TestExplainListBench(t *testing.T) {
	if os.Getenv("IMAGEDASH_EXPLAIN") == "" {
		t.Skip("set IMAGEDASH_EXPLAIN=1")
	}
	s := listStore(t)
	for _, bc := range listBenchQueries {
		q := bc.q
		q.Service, q.Limit = "compute", 50
		for _, e := range explainQueries(q) {
			t.Logf("%s: %s\n%s\n%s", bc.name, e.name, e.sql, explain(t, s.r, e.sql, e.args...))
		}
	}
}

type explained struct {
	name string
	sql  string
	args []any
}

// explainQueries are the statements Images (first page) and Facets run for q.
func explainQueries(q ImageQuery) []explained {
	col, limit, _ := q.check()
	count, cargs := q.countSQL()
	out := []explained{{name: "count", sql: count, args: cargs}}
	for _, plan := range []textPlan{textSet, textDrive} {
		page, pargs := q.pageSQL(plan, order{col: col, desc: q.Desc}, nil, limit+1)
		out = append(out, explained{name: fmt.Sprintf("page(plan %d)", plan), sql: page, args: pargs})
		if q.Text == "" {
			break
		}
	}
	facets, fargs := q.facetsSQL()
	return append(out, explained{name: "facets", sql: facets, args: fargs})
}
