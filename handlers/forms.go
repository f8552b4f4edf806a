package handlers

import (
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/imagedash/imagedash/rules"
	"github.com/imagedash/imagedash/views"
)

// FieldErrors are a form's messages by field ("name", "labels",
// "labels.<key>", ...), shown next to each field.
type FieldErrors map[string]string

// add keeps the first message of each field.
func (fe FieldErrors) add(vs ...rules.Violation) {
	for _, v := range vs {
		if _, ok := fe[v.Field]; !ok {
			fe[v.Field] = v.Message
		}
	}
}

// parseLabelRows reads the label editor's label_key / label_value pairs
// into a label set, and the rows to show again with their messages. A row
// with an empty key is dropped (that is how a label is removed without
// JavaScript); a key given twice, or a bad key or value, is an error on
// its row. The set's own rules (how many) go under "labels".
func parseLabelRows(form url.Values, fe FieldErrors) (map[string]string, []views.LabelRow) {
	keys, vals := form["label_key"], form["label_value"]
	labels := map[string]string{}
	var rows []views.LabelRow
	for i, k := range keys {
		k = strings.TrimSpace(k)
		v := ""
		if i < len(vals) {
			v = strings.TrimSpace(vals[i])
		}
		if k == "" && v == "" {
			continue
		}
		row := views.LabelRow{Key: k, Value: v}
		switch _, dup := labels[k]; {
		case k == "":
			row.Error = "Give the label a key, or clear its value."
		case dup:
			row.Error = "This key is given twice."
		default:
			if vs := rules.Label("labels", k, v); len(vs) > 0 {
				row.Error = vs[0].Message
			} else {
				labels[k] = v
			}
		}
		if row.Error != "" {
			fe.add(rules.Violation{Field: "labels." + k, Message: row.Error})
		}
		rows = append(rows, row)
	}
	if len(labels) > rules.MaxLabels {
		fe.add(rules.Labels("labels", labels)[0])
	}
	return labels, rows
}

// labelRows are the editor's rows of a label set, sorted by key.
func labelRows(labels map[string]string) []views.LabelRow {
	rows := make([]views.LabelRow, 0, len(labels))
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		rows = append(rows, views.LabelRow{Key: k, Value: labels[k]})
	}
	return rows
}
