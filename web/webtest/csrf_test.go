package webtest

import (
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/imagedash/imagedash/views"
)

// TestCSRFTokenAsAParse: the scrape's search finds the token a parse of the
// page finds: the first _csrf field with a value, escaped as templ writes
// it, not a mention of the name in text or in another tag.
func TestCSRFTokenAsAParse(t *testing.T) {
	var field strings.Builder
	ctx := views.WithRequest(context.Background(), views.Request{CSRF: "tok+/=&<1>"})
	if err := views.CSRFInput().Render(ctx, &field); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, page, want string
	}{
		{"templ's field", "<form>" + field.String() + "</form>", "tok+/=&<1>"},
		{"none", `<p>no form</p>`, ""},
		{"the name in text first", `<p> name="_csrf" is the field</p><input type="hidden" name="_csrf" value="a">`, "a"},
		{"another tag first", `<meta name="_csrf" value="no"><input name="_csrf" value="b" type="hidden">`, "b"},
		{"empty value first", `<input name="_csrf" value=""><input type="hidden" name="_csrf" value="c">`, "c"},
		{"escaped", `<input type="hidden" name="_csrf" value="x&amp;y&#34;z">`, `x&y"z`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := goquery.NewDocumentFromReader(strings.NewReader(tt.page))
			if err != nil {
				t.Fatal(err)
			}
			parsed := ""
			doc.Find(`input[name="` + views.CSRFField + `"]`).EachWithBreak(func(_ int, s *goquery.Selection) bool {
				v, _ := s.Attr("value")
				parsed = v
				return v == ""
			})
			if got := csrfToken(tt.page); got != tt.want || got != parsed {
				t.Errorf("csrfToken = %q, want %q (a parse finds %q)", got, tt.want, parsed)
			}
		})
	}
}
