package main

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Expressions of the keyboard test, on the image list.
const (
	// keyRows is the image list's rows.
	keyRows = `[...document.querySelectorAll("#image-table [data-testid=image-row]")]`
	// focusedRow is the index of the row that has the focus, -1 for none.
	focusedRow = keyRows + `.indexOf(document.activeElement)`
	// highlighted is the ids of the highlighted rows, as a JSON array.
	highlighted = `JSON.stringify([...document.querySelectorAll("#image-table tr.kb-current")].map(r => r.dataset.id))`
	// inView says the focused element is wholly inside the window.
	inView = `(() => { const r = document.activeElement.getBoundingClientRect(); return r.top >= -1 && r.bottom <= document.documentElement.clientHeight + 1 })()`
)

// rowIs says the row of index i has the focus and is the only one
// highlighted.
func rowIs(i int) string {
	n := strconv.Itoa(i)
	return focusedRow + ` === ` + n + ` && ` + highlighted + ` === JSON.stringify([` + keyRows + `[` + n + `].dataset.id])`
}

// TestBrowserKeys is issue 17 item 10, as a copier (amir), a viewer (ava)
// and an editor (alice) of team alpha: from page load a Tab reaches the skip
// link (shown on focus) and Enter on it the first row, in fewer than 10 Tab
// presses; j/k and the arrows move a visible, scrolled-into-view row focus,
// which a reload of the table keeps; x ticks the row; Enter opens it; c
// opens the copy form only for the copier, e the edit form only for the
// editor; ? opens the shortcuts dialog and Escape closes it; a j typed in
// the search box, or pressed with a modifier, moves nothing. No page
// reports an error. The keys that do the same for every role are pressed
// by the editor only; the copier and the viewer press c and e.
func TestBrowserKeys(t *testing.T) {
	t.Parallel() // reads only: the shared demo app; most of its time is waiting
	base, browser := readOnlyDemo(t)

	for _, p := range []struct {
		name          string
		copies, edits bool
		// all: every key. The keys other than c and e do the same for
		// every role (keys.js does not look at it), so one role presses
		// them all and the others only what their role changes.
		all bool
	}{
		{"amir", true, false, false},
		{"ava", false, false, false},
		{"alice", true, true, true},
	} {
		t.Run(p.name, func(t *testing.T) {
			ctx, errs := newPerson(t, browser)
			runSteps(t, ctx, errs, []step{
				{"sign in", chromedp.Steps(chromedp.Navigate(base+"/"), browserSignIn(p.name, demoPassword))},
				{"load the list", chromedp.Reload()},
				// keys.js has run: the first row is the table's Tab stop.
				{"rows", until(keyRows + `.length > 20 && ` + keyRows + `[0].getAttribute("tabindex") === "0"`)},
			})
			// The forms each row offers follow the role; the server
			// enforces it again (handlers' role matrix tests).
			offers, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify([
				`+keyRows+`.some(r => r.hasAttribute("data-copy-url")), `+keyRows+`.every(r => !r.hasAttribute("data-copy-url")),
				`+keyRows+`.some(r => r.hasAttribute("data-edit-url")), `+keyRows+`.every(r => !r.hasAttribute("data-edit-url"))])`))
			// A copier may copy every row (into their team's folder); an
			// editor edit their team's rows, not the golden ones.
			want := fmt.Sprintf("[%t,%t,%t,%t]", p.copies, !p.copies, p.edits, !p.edits)
			if err != nil || offers != want {
				t.Fatalf("rows offer [copy some, copy none, edit some, edit none] = %s, want %s (%v)", offers, want, err)
			}

			if !p.all {
				runSteps(t, ctx, errs, []step{
					{"focus the second row", chromedp.Evaluate[chromedp.Void](keyRows + `[1].focus()`)},
					{"second row", until(rowIs(1))},
					{"mark the page", chromedp.Evaluate[chromedp.Void](`document.body.dataset.mark = "kept"`)},
				})
			}
			// From page load: Tab to the skip link, shown, then Enter lands on
			// the first row.
			tabs := 0
			for p.all && tabs < 10 {
				tabs++
				if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
					t.Fatal(err)
				}
				at, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const a = document.activeElement;
					if (a.matches("a.skip-link")) { const r = a.getBoundingClientRect();
						return r.left >= 0 && r.top >= 0 && r.width > 0 ? "skip" : "hidden skip" }
					return `+focusedRow+` === 0 ? "row" : a.tagName + " " + (a.textContent || "").trim().slice(0, 30) })()`))
				if err != nil {
					t.Fatal(err)
				}
				if tabs == 1 && at != "skip" {
					t.Fatalf("the first Tab reached %q, want the skip link, shown", at)
				}
				if at == "skip" {
					runSteps(t, ctx, errs, []step{
						{"Enter on the skip link", chromedp.KeyEvent(kb.Enter)},
						{"first row focused", until(rowIs(0))},
					})
					at = "row"
				}
				if at == "row" {
					break
				}
			}
			if tabs >= 10 {
				t.Fatalf("%d Tab presses did not reach the first row", tabs)
			}
			if p.all {
				t.Logf("%s: %d Tab press(es) and Enter on the skip link to the first row", p.name, tabs)
			}

			moves := []step{
				{"j", chromedp.KeyEvent("j")},
				{"second row", until(rowIs(1))},
				{"j again", chromedp.KeyEvent("j")},
				{"third row", until(rowIs(2))},
				{"k", chromedp.KeyEvent("k")},
				{"back to the second", until(rowIs(1))},
				{"arrow down", chromedp.KeyEvent(kb.ArrowDown)},
				{"third by arrow", until(rowIs(2))},
				{"arrow up", chromedp.KeyEvent(kb.ArrowUp)},
				{"second by arrow", until(rowIs(1))},
				{"k at the top stays", chromedp.KeyEvent("kk")},
				{"first row", until(rowIs(0))},
				{"far down", chromedp.KeyEvent("jjjjjjjjjjjjjjjjjjjj")},
				{"row 20, scrolled into view", until(rowIs(20) + ` && ` + inView)},
				{"back up", chromedp.KeyEvent("kkkkkkkkkkkkkkkkkkk")},
				{"second row again", until(rowIs(1) + ` && ` + inView)},
				// A modifier, or the key sent to a field, moves nothing.
				{"ctrl+j, alt+j and a j in a field move nothing", until(`(() => {
					document.activeElement.dispatchEvent(new KeyboardEvent("keydown", {key: "j", ctrlKey: true, bubbles: true}));
					document.activeElement.dispatchEvent(new KeyboardEvent("keydown", {key: "j", altKey: true, bubbles: true}));
					document.querySelector("#filters [name=label]").dispatchEvent(new KeyboardEvent("keydown", {key: "j", bubbles: true}));
					return ` + rowIs(1) + ` })()`)},
				// A reload of the table (a finished sync) keeps the row.
				{"mark the table", chromedp.Evaluate[chromedp.Void](`document.querySelector("#image-table").dataset.old = "1"`)},
				{"a sync reloads the table", chromedp.Evaluate[chromedp.Void](`htmx.trigger(document.body, "imagedash:synced")`)},
				{"same row focused in the new table", until(`document.querySelector("#image-table").dataset.old === undefined && ` + rowIs(1))},
				{"x", chromedp.KeyEvent("x")},
				{"ticked", until(keyRows + `[1].querySelector("[data-testid=select-row]").checked && document.querySelector("[data-clear-selection]").hidden === false && ` + rowIs(1))},
				{"x again", chromedp.KeyEvent("x")},
				{"unticked", until(`!` + keyRows + `[1].querySelector("[data-testid=select-row]").checked`)},
				{"?", chromedp.KeyEvent("?")},
				{"shortcuts shown", until(`document.querySelector("dialog[data-testid=shortcuts]")?.open === true &&
					document.querySelector("dialog[data-testid=shortcuts]").textContent.includes("Next image") &&
					document.querySelector("dialog[data-testid=shortcuts]").contains(document.activeElement)`)},
				{"j under the dialog moves nothing", chromedp.KeyEvent("j")},
				{"Escape", chromedp.KeyEvent(kb.Escape)},
				{"shortcuts closed, row kept", until(`!document.querySelector("dialog[data-testid=shortcuts]").open && ` + rowIs(1))},
				// Mark the document: a page load loses the mark.
				{"mark the page", chromedp.Evaluate[chromedp.Void](`document.body.dataset.mark = "kept"`)},
			}
			if p.all {
				runSteps(t, ctx, errs, moves)
			}
			if !p.copies && !p.edits {
				// The viewer's c and e: no form, the list stays (checked
				// after the search below has made a round trip).
				runSteps(t, ctx, errs, []step{{"c and e", chromedp.KeyEvent("ce")}})
			}
			current, err := chromedp.Run(ctx, chromedp.Evaluate[string](keyRows+`[1].dataset.id`))
			if err != nil {
				t.Fatal(err)
			}
			runSteps(t, ctx, errs, []step{
				{"focus the search box", chromedp.Evaluate[chromedp.Void](`document.querySelector("#q").focus()`)},
				{"type j", chromedp.KeyEvent("j")},
				{"searched for j, box kept, row not moved", until(`new URLSearchParams(location.search).get("q") === "j" &&
					document.querySelector("#image-table [data-testid=filter-chip][data-kind=text]") !== null &&
					document.activeElement.id === "q" && document.querySelector("#q").value === "j" &&
					[` + strconv.Quote("[]") + `, ` + strconv.Quote(`["`+current+`"]`) + `].includes(` + highlighted + `)`)},
				{"still the list, no page load", until(`location.pathname === "/" && document.body.dataset.mark === "kept"`)},
				{"clear the search", chromedp.Evaluate[chromedp.Void](`history.back()`)},
				{"list again", until(`!location.search.includes("q=j") && ` + keyRows + `.length > 20`)},
				{"back on the rows", chromedp.Evaluate[chromedp.Void](keyRows + `[1].focus()`)},
				{"row focused", until(rowIs(1))},
			})

			if p.copies {
				runSteps(t, ctx, errs, []step{
					{"c", chromedp.KeyEvent("c")},
					// A page load: wait for it with a selector (a poll
					// loses its page).
					{"copy page", chromedp.WaitVisible(chromedp.CSS(`[data-testid="copy-form"]`))},
					{"copy form", until(`location.pathname === "/images/compute/` + current + `/copy" &&
						document.querySelector("[data-testid=copy-form]") !== null`)},
					{"back", chromedp.NavigateBack()},
					{"list after c", until(keyRows + `.length > 20`)},
				})
			}
			if p.edits {
				runSteps(t, ctx, errs, []step{
					{"an editable row", chromedp.Evaluate[chromedp.Void](keyRows + `.find(r => r.hasAttribute("data-edit-url")).focus()`)},
					{"e", chromedp.KeyEvent("e")},
					{"edit page", chromedp.WaitVisible(chromedp.CSS(`[data-testid="image-edit"]`))},
					{"edit form", until(`location.pathname.endsWith("/edit") && document.querySelector("[data-testid=image-edit]") !== null`)},
					{"back", chromedp.NavigateBack()},
					{"list after e", until(keyRows + `.length > 20`)},
				})
			}

			// Enter opens the focused row's image in the page (boosted), and
			// Back returns to the list with the same row focused.
			if !p.all {
				if e := errs.get(); len(e) > 0 {
					t.Errorf("the page reported errors (CSP violations, exceptions): %q", e)
				}
				return
			}
			runSteps(t, ctx, errs, []step{
				{"mark again", chromedp.Evaluate[chromedp.Void](`document.body.dataset.mark = "kept"`)},
				{"focus the third row", chromedp.Evaluate[chromedp.Void](keyRows + `[2].focus()`)},
				{"third row", until(rowIs(2))},
			})
			third, err := chromedp.Run(ctx, chromedp.Evaluate[string](keyRows+`[2].dataset.id`))
			if err != nil {
				t.Fatal(err)
			}
			runSteps(t, ctx, errs, []step{
				{"Enter", chromedp.KeyEvent(kb.Enter)},
				{"image page", until(`location.pathname === "/images/compute/` + third + `" &&
					document.querySelector("[data-testid=image-detail]") !== null && document.body.dataset.mark === "kept"`)},
				{"Back", chromedp.Evaluate[chromedp.Void](`history.back()`)},
				{"list, same row focused", until(`location.pathname === "/" && document.activeElement.dataset?.id === "` + third + `" &&
					document.activeElement.classList.contains("kb-current")`)},
			})

			if e := errs.get(); len(e) > 0 {
				t.Errorf("the page reported errors (CSP violations, exceptions): %q", e)
			}
		})
	}
}
