package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/views"
)

// Preferences is what the list preferences need from the store. Every call
// names its person, and the handlers pass only the viewer's own id: no
// request can read or write another person's.
type Preferences interface {
	Prefs(ctx context.Context, userID int64) (store.Prefs, error)
	SavePrefs(ctx context.Context, userID int64, p store.Prefs) error
}

var _ Preferences = (*store.Store)(nil)

// prefs is where preferences are kept: the people store (the server's is a
// *store.Store) when it keeps them; nil leaves everyone on the defaults and
// refuses to save (handler tests without a people store).
func (h *Handlers) prefs() Preferences {
	p, _ := h.people.(Preferences)
	return p
}

// listPrefs are the viewer's list preferences, asked on every list request
// (alongside the page's own reads): the store keeps them in memory, so only
// the first request after a change reads them, by primary key. A person signed out,
// or whose preferences cannot be read, gets the defaults: the list matters
// more than its density, and the failure is logged.
func (h *Handlers) listPrefs(ctx context.Context, userID int64) views.ListPrefs {
	ps := h.prefs()
	if ps == nil || userID == 0 {
		return views.ListPrefs{}
	}
	p, err := ps.Prefs(ctx, userID)
	if err != nil {
		h.log.WarnContext(ctx, "list preferences unread; showing the defaults", "err", err, "user", userID)
		return views.ListPrefs{}
	}
	return views.ListPrefs{Compact: p.Compact(), Hidden: p.Hidden, Absolute: p.AbsoluteTimes}
}

// maxPrefsColumns bounds the columns one post may name.
const maxPrefsColumns = 64

// SavePreferences saves the viewer's list preferences (POST
// /account/preferences) from the "Columns" menu: the columns ticked (col,
// among the columns of the list's service), the density and the times.
// return is the list the menu was on. A bad value is 400 with its message
// next to its field, and nothing is saved. Saved, htmx gets the form back
// and PrefsEvent, on which the table reloads itself from the list's own
// address; a plain post is sent back to the list.
func (h *Handlers) SavePreferences(c echo.Context) error {
	me := viewer(c).User
	if me.ID == 0 {
		// requireLogin stops anonymous requests first; fail closed all the same.
		return fault.New(fault.Unauthenticated, "")
	}
	ps := h.prefs()
	if ps == nil {
		return fault.New(fault.Unavailable, "Preferences cannot be saved on this server.")
	}
	form, err := c.FormParams()
	if err != nil {
		return badRequest("The form could not be read.")
	}
	list := prefsList(form.Get("return"))
	ret, svc := list.URL(), list.Service

	shown := form["col"]
	density := form.Get("density")
	times := form.Get("times")
	errs := map[string]string{}
	if len(shown) > maxPrefsColumns {
		errs["col"] = fmt.Sprintf("Too many columns named (%d); tick the ones to show.", len(shown))
	}
	for _, k := range shown {
		if !views.OptionalColumn(k) && !views.AlwaysShown(k) && errs["col"] == "" {
			errs["col"] = fmt.Sprintf("There is no column “%s”. Tick the columns to show from the list.", truncate(k))
		}
	}
	switch density {
	case "", views.DensityComfortable, views.DensityCompact:
	default:
		errs["density"] = fmt.Sprintf("Unknown density “%s”: choose Comfortable or Compact.", truncate(density))
	}
	switch times {
	case "", "relative", "absolute":
	default:
		errs["times"] = fmt.Sprintf("Unknown time format “%s”: choose relative times or date and time.", truncate(times))
	}

	ctx := c.Request().Context()
	old, err := ps.Prefs(ctx, me.ID)
	if err != nil {
		return fmt.Errorf("save preferences: %w", err)
	}
	next := store.Prefs{
		Density:       old.Density,
		Hidden:        hiddenAfter(old.Hidden, svc, shown),
		AbsoluteTimes: times == "absolute",
	}
	if density != "" {
		next.Density = density
	}
	f := views.NewPrefsForm(svc, ret, views.ListPrefs{Compact: next.Compact(), Hidden: next.Hidden, Absolute: next.AbsoluteTimes})
	if len(errs) > 0 {
		// The form as posted, with the messages: the boxes keep what was
		// ticked (only the known keys can be ticked back).
		f.Errors = errs
		if IsHTMX(c.Request()) {
			NoPush(c.Response().Header())
		}
		return Render(c, fault.BadRequest.Status(), views.PrefsPage(f), views.PrefsFormView(f))
	}
	if err := ps.SavePrefs(ctx, me.ID, next); err != nil {
		return fmt.Errorf("save preferences: %w", err)
	}
	if !IsHTMX(c.Request()) {
		return c.Redirect(http.StatusSeeOther, ret)
	}
	c.Response().Header().Set(HeaderTriggerResponse, views.PrefsEvent)
	return Render(c, http.StatusOK, views.PrefsPage(f), views.PrefsFormView(f))
}

// hiddenAfter is the hidden columns once the menu of svc's list is applied
// with shown ticked: svc's optional columns not ticked are hidden, the
// other services' columns keep their state, keys no table knows any more
// are dropped.
func hiddenAfter(old []string, svc cloud.Service, shown []string) []string {
	offered := views.ShownColumns(views.ColumnsOf(svc), nil)
	var out []string
	for _, k := range old {
		if views.OptionalColumn(k) && !slices.ContainsFunc(offered, func(c views.Column) bool { return c.Key == k }) {
			out = append(out, k)
		}
	}
	for _, c := range offered {
		if !views.AlwaysShown(c.Key) && !slices.Contains(shown, c.Key) {
			out = append(out, c.Key)
		}
	}
	return out
}

// prefsList is the list the menu leads back to: the image list the form
// names, or the default list. Only its filters are kept, and its canonical
// address is where the answer leads, so the redirect cannot leave the list.
func prefsList(raw string) views.ImageFilter {
	u, err := url.Parse(raw)
	if err == nil && u.Path == "/" && u.Host == "" && u.Scheme == "" && u.User == nil {
		if f, err := parseImageFilter(u.Query()); err == nil {
			return f
		}
	}
	f, _ := parseImageFilter(url.Values{}) // the default list always parses
	return f
}
