package planner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/rules"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/tracker"
)

// Kind is what a copy makes, from what.
type Kind int

const (
	// ComputeToCompute copies Compute images into new Compute images.
	ComputeToCompute Kind = iota
	// ComputeToDesktop copies Compute images into new Desktop images.
	ComputeToDesktop
	// DesktopToDesktop images a desktop's disk into a new Desktop image.
	DesktopToDesktop
)

// Service is the service the new images are made in.
func (k Kind) Service() cloud.Service {
	if k == ComputeToCompute {
		return cloud.Compute
	}
	return cloud.Desktop
}

// Store is what the planner reads. *store.Store satisfies it.
type Store interface {
	Image(ctx context.Context, svc cloud.Service, id string) (cloud.Image, error)
	ImageNamesTaken(ctx context.Context, svc cloud.Service, folder string, names []string) (map[string]string, error)
	OpenOperationNames(ctx context.Context, svc cloud.Service, folder string, names []string) (map[string]int64, error)
}

var _ Store = (*store.Store)(nil)

// Permissions are the person's. auth.Policy satisfies it.
type Permissions interface {
	CanView(folder string) bool
	CanCopyInto(folder string) bool
}

// Folder is a target folder: its id, and its name for {folder} and for
// messages (its id when it has none).
type Folder struct {
	ID   string
	Name string
}

// Request is a copy as a form asks for it.
type Request struct {
	Kind Kind
	// Sources are the ids of the Compute images to copy (ComputeTo*).
	Sources []string
	// Desktop is the desktop to image (DesktopToDesktop). Whether it
	// exists and is the person's to see is the caller's to check: only the
	// cloud knows desktops.
	Desktop string
	// Folders are where the copies go; every source goes into every folder.
	Folders []Folder
	// Name is a name template (see Template); with Plain, a name taken as
	// it is (the desktop form has no template).
	Name  string
	Plain bool
	// Description and Family, when set, are every copy's; nil keeps each
	// source's own. Family is for Compute copies only.
	Description *string
	Family      *string
	// MinDiskSize (bytes) is every Compute copy's minimum disk size; 0
	// keeps the source's.
	MinDiskSize int64
	// Labels, when set, are every copy's whole label set; nil keeps each
	// source's own. AddLabels are then put on top (a key given replaces the
	// source's value).
	Labels    map[string]string
	AddLabels map[string]string
}

// The fields a Problem may be about: the request's (and the cloud's) names.
const (
	FieldName        = "name"
	FieldFolder      = "folder"
	FieldSource      = "source"
	FieldDescription = "description"
	FieldFamily      = "family"
	FieldMinDisk     = "min_disk_size"
	FieldLabels      = "labels"
)

// Problem is why a plan, or one of its rows, is refused.
type Problem struct {
	Field   string // one of the Field* names (a label's may be "labels.<key>")
	Message string // a sentence for the person who asked
}

// Row is one copy of a plan: one source into one folder.
type Row struct {
	// SourceID is the image's (or the desktop's) id, as asked; Source the
	// image, when it exists and the person may see it (zero otherwise, and
	// for a desktop).
	SourceID string
	Source   cloud.Image
	// Hidden is the folder of a source that exists but is not the person's
	// to see: for the audit log only, never to be shown. The row says it no
	// longer exists, exactly as for one that does not.
	Hidden string
	Folder Folder
	// Name is the new image's name; Service the service it is made in.
	Name    string
	Service cloud.Service
	// Problems say why this row cannot be made ("" field: the row itself).
	Problems []Problem
	// Intent is what the tracker is asked to do; set only in a plan with
	// no problem at all.
	Intent tracker.Intent
}

// SourceName is the row's source by name, or by id when it has none (or
// is unknown).
func (r Row) SourceName() string {
	if r.Source.Name != "" {
		return r.Source.Name
	}
	return r.SourceID
}

// Plan is the answer to a Request: every row, and what is wrong with the
// request as a whole. A plan with any problem is refused whole.
type Plan struct {
	Rows     []Row
	Problems []Problem
}

// Refused says whether anything is wrong with the plan: then nothing of it
// may be submitted.
func (p Plan) Refused() bool {
	if len(p.Problems) > 0 || len(p.Rows) == 0 {
		return true
	}
	for _, r := range p.Rows {
		if len(r.Problems) > 0 {
			return true
		}
	}
	return false
}

// Intents are the intents to submit, in row order, with one
// tracker.StartBatch; nil for a refused plan.
func (p Plan) Intents() []tracker.Intent {
	if p.Refused() {
		return nil
	}
	out := make([]tracker.Intent, len(p.Rows))
	for i, r := range p.Rows {
		out[i] = r.Intent
	}
	return out
}

// BadRows counts the rows with a problem.
func (p Plan) BadRows() int {
	n := 0
	for _, r := range p.Rows {
		if len(r.Problems) > 0 {
			n++
		}
	}
	return n
}

// Planner makes plans. It holds no state of its own: a plan is made from
// the store as it is when Plan is called.
type Planner struct {
	store Store
	now   func() time.Time
}

// New is a planner reading st; now is the clock of {date} (nil: time.Now).
func New(st Store, now func() time.Time) *Planner {
	if now == nil {
		now = time.Now
	}
	return &Planner{store: st, now: now}
}

// Messages of the problems, shared with the handlers' tests.
const (
	MsgGone     = "This image no longer exists: it was deleted, or moved out of the folders you may see, since the form was shown."
	MsgNoFolder = "Pick at least one folder to copy into."
	MsgNoSource = "Pick at least one image to copy."
)

// Plan checks req for the person perms describes and lays out its rows.
// The error is set only when the store could not be read; everything wrong
// with the request is in the plan's problems.
func (p *Planner) Plan(ctx context.Context, perms Permissions, req Request) (Plan, error) {
	var plan Plan
	bad := func(field, msg string) { plan.Problems = append(plan.Problems, Problem{field, msg}) }

	tmpl, tmplOK := Template{parts: []namePart{{lit: req.Name}}}, true
	if !req.Plain {
		var err error
		if tmpl, err = ParseTemplate(req.Name); err != nil {
			bad(FieldName, TemplateMessage(err))
			tmplOK = false
		}
	}
	if len(req.Folders) == 0 {
		bad(FieldFolder, MsgNoFolder)
	}
	for _, f := range req.Folders {
		if !perms.CanCopyInto(f.ID) {
			bad(FieldFolder, fmt.Sprintf("You may not copy into folder %s.", f.Name))
		}
	}
	if req.Description != nil {
		for _, v := range rules.Description(FieldDescription, *req.Description) {
			bad(v.Field, v.Message)
		}
	}
	if req.Family != nil && req.Kind == ComputeToCompute {
		for _, v := range rules.Family(FieldFamily, *req.Family) {
			bad(v.Field, v.Message)
		}
	}
	if req.Labels != nil && req.AddLabels == nil {
		for _, v := range rules.Labels(FieldLabels, req.Labels) {
			bad(v.Field, v.Message)
		}
	}

	sources, err := p.sources(ctx, perms, req)
	if err != nil {
		return Plan{}, err
	}
	if len(sources) == 0 {
		bad(FieldSource, MsgNoSource)
	}
	svc := req.Kind.Service()
	day := p.now()
	for _, f := range req.Folders {
		for _, s := range sources {
			r := s
			r.Folder, r.Service = f, svc
			if tmplOK && (r.Source.ID != "" || req.Kind == DesktopToDesktop) {
				r.Name = tmpl.Expand(newNameVars(r.Source.Name, r.Source.Family, f.Name, day))
			}
			p.checkRow(&r, req, tmplOK)
			plan.Rows = append(plan.Rows, r)
		}
	}
	if err := p.checkNames(ctx, &plan); err != nil {
		return Plan{}, err
	}
	if !plan.Refused() {
		for i := range plan.Rows {
			plan.Rows[i].Intent = intent(req, plan.Rows[i])
		}
	}
	return plan, nil
}

// sources are the rows' sources, one row each, read from the store: a
// source that is gone, or not the person's to see, is a row whose problem
// says it no longer exists (the same words for both).
func (p *Planner) sources(ctx context.Context, perms Permissions, req Request) ([]Row, error) {
	if req.Kind == DesktopToDesktop {
		if req.Desktop == "" {
			return nil, nil
		}
		return []Row{{SourceID: req.Desktop}}, nil
	}
	var out []Row
	seen := map[string]bool{}
	for _, id := range req.Sources {
		if seen[id] {
			continue
		}
		seen[id] = true
		r := Row{SourceID: id}
		img, err := p.store.Image(ctx, cloud.Compute, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			r.Problems = append(r.Problems, Problem{FieldSource, MsgGone})
		case err != nil:
			return nil, fmt.Errorf("planner: source %s: %w", id, err)
		case !perms.CanView(img.FolderID):
			r.Hidden = img.FolderID
			r.Problems = append(r.Problems, Problem{FieldSource, MsgGone})
		default:
			r.Source = img
		}
		out = append(out, r)
	}
	return out, nil
}

// checkRow checks what one row alone can tell: the source's state, the
// name's rules, and the options against this source.
func (p *Planner) checkRow(r *Row, req Request, named bool) {
	add := func(field, msg string) { r.Problems = append(r.Problems, Problem{field, msg}) }
	known := r.Source.ID != ""
	if known && r.Source.Status != "READY" {
		add(FieldSource, fmt.Sprintf("This image is %s: the cloud copies only READY images.", statusTitle(r.Source.Status)))
	}
	if named && (known || req.Kind == DesktopToDesktop) {
		if vs := rules.Name(FieldName, r.Name, true); len(vs) > 0 {
			add(FieldName, NameRuleMessage(r.Name, vs[0]))
		}
	}
	if !known {
		return
	}
	if req.Kind == ComputeToCompute && req.MinDiskSize > 0 {
		for _, v := range rules.MinDisk(FieldMinDisk, req.MinDiskSize, r.Source.Size) {
			add(v.Field, "The minimum disk size "+v.Message+".")
		}
	}
	if req.AddLabels != nil {
		for _, v := range rules.Labels(FieldLabels, labels(req, r.Source)) {
			add(FieldLabels, "With the added labels: "+v.Message+".")
			break
		}
	}
}

// checkNames checks every row's name against its target folder, exactly:
// an image of that name cached there, an operation in flight giving an
// image that name there, or an earlier row of this plan taking it.
func (p *Planner) checkNames(ctx context.Context, plan *Plan) error {
	type target struct {
		svc    cloud.Service
		folder string
	}
	asked := map[target][]string{}
	for _, r := range plan.Rows {
		if r.Name != "" && !hasProblem(r, FieldName) {
			t := target{r.Service, r.Folder.ID}
			asked[t] = append(asked[t], r.Name)
		}
	}
	images := map[target]map[string]string{}
	ops := map[target]map[string]int64{}
	for t, names := range asked {
		var err error
		if images[t], err = p.store.ImageNamesTaken(ctx, t.svc, t.folder, names); err != nil {
			return fmt.Errorf("planner: %w", err)
		}
		if ops[t], err = p.store.OpenOperationNames(ctx, t.svc, t.folder, names); err != nil {
			return fmt.Errorf("planner: %w", err)
		}
	}
	type key struct {
		target
		name string
	}
	first := map[key]int{} // the row that takes a name first
	for i := range plan.Rows {
		r := &plan.Rows[i]
		if r.Name == "" || hasProblem(*r, FieldName) {
			continue
		}
		t := target{r.Service, r.Folder.ID}
		k := key{t, r.Name}
		if j, ok := first[k]; ok {
			r.Problems = append(r.Problems, Problem{FieldName, fmt.Sprintf(
				"“%s” is also the new name of %s: the template must give each image its own name (add {name}).",
				r.Name, plan.Rows[j].SourceName())})
			continue
		}
		first[k] = i
		if id, ok := images[t][r.Name]; ok {
			r.Problems = append(r.Problems, Problem{FieldName,
				fmt.Sprintf("An image named “%s” exists already in this folder (%s).", r.Name, id)})
		} else if _, ok := ops[t][r.Name]; ok {
			r.Problems = append(r.Problems, Problem{FieldName,
				fmt.Sprintf("An image named “%s” is being made in this folder right now.", r.Name)})
		}
	}
	return nil
}

func hasProblem(r Row, field string) bool {
	for _, pr := range r.Problems {
		if pr.Field == field {
			return true
		}
	}
	return false
}

// intent is the tracker's intent for a row of an accepted plan.
func intent(req Request, r Row) tracker.Intent {
	desc := r.Source.Description
	if req.Description != nil {
		desc = *req.Description
	}
	switch req.Kind {
	case ComputeToDesktop:
		return tracker.CopyToDesktop(r.Source, r.Folder.ID, r.Name, desc, labels(req, r.Source))
	case DesktopToDesktop:
		return tracker.CopyFromDesktop(r.SourceID, r.Folder.ID, r.Name, desc, labels(req, r.Source))
	}
	fam := r.Source.Family
	if req.Family != nil {
		fam = *req.Family
	}
	return tracker.Copy(r.Source, cloud.CreateImageSpec{FolderID: r.Folder.ID, Name: r.Name, Description: desc,
		Labels: labels(req, r.Source), Family: fam, MinDiskSize: req.MinDiskSize})
}

// labels are a copy's labels: the request's set (or the source's own),
// with the added ones on top; a new map.
func labels(req Request, src cloud.Image) map[string]string {
	base := req.Labels
	if base == nil {
		base = src.Labels
	}
	out := maps.Clone(base)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, req.AddLabels)
	return out
}

// NameRuleMessage says why name breaks the name rules.
func NameRuleMessage(name string, v rules.Violation) string {
	if name == "" {
		return "The name comes out empty."
	}
	if utf8.RuneCountInString(name) > 40 {
		name = string([]rune(name)[:40]) + "…"
	}
	return fmt.Sprintf("“%s” will not do: a name %s.", name, v.Message)
}

// TemplateMessage is a template parse error for people.
func TemplateMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), ErrTemplate.Error()+": ")
	return "The name template is wrong: " + msg + "."
}

// statusTitle is a status as the badges say it ("READY" → "Ready"), as
// views.StatusTitle does.
func statusTitle(status string) string {
	if status == "" {
		return "Unknown"
	}
	s := strings.ToLower(strings.ReplaceAll(status, "_", " "))
	return strings.ToUpper(s[:1]) + s[1:]
}
