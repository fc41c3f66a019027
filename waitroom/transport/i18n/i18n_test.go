package i18n

import (
	"fmt"
	"math"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestNegotiate(t *testing.T) {
	b, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ url, accept, want string }{
		{"/", "", "en"},
		{"/", "fr-CA,fr;q=0.9,en;q=0.5", "fr"},
		{"/", "de-DE", "de"},
		{"/", "ja", "en"},
		{"/?lang=fr", "de", "fr"},
		{"/?lang=xx", "de", "de"},
		{"/", "es-MX,es;q=0.9", "es"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", tt.url, nil)
		r.Header.Set("Accept-Language", tt.accept)
		if got := b.Negotiate(r).Lang; got != tt.want {
			t.Errorf("%s %q: got %s, want %s", tt.url, tt.accept, got, tt.want)
		}
	}
}

func TestPlurals(t *testing.T) {
	b, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		lang string
		n    int64
		want string
	}{
		{"en", 0, "Nobody is ahead of you"},
		{"en", 1, "1 person ahead of you"},
		{"en", 2, "2 people ahead of you"},
		{"en", 12345, "12,345 people ahead of you"},
		{"fr", 1, "1 personne devant vous"},
		{"fr", 2, "2 personnes devant vous"},
		{"de", 1, "1 Person vor Ihnen"},
		{"de", 3, "3 Personen vor Ihnen"},
		{"es", 0, "No hay nadie delante de usted"},
		{"es", 1, "1 persona delante de usted"},
		{"es", 7, "7 personas delante de usted"},
	}
	for _, tt := range tests {
		if got := b.Printer(tt.lang).N("ahead", tt.n); got != tt.want {
			t.Errorf("%s %d: got %q, want %q", tt.lang, tt.n, got, tt.want)
		}
	}
	// French groups thousands with a (narrow) no-break space.
	if got := b.Printer("fr").N("ahead", 12345); !strings.HasPrefix(got, "12") || strings.Contains(got, ",") {
		t.Errorf("fr 12345: %q", got)
	}
}

// Every catalogue must have every key of the default one, with the same
// placeholders, so that no visitor sees a raw key or a lost number.
func TestCataloguesComplete(t *testing.T) {
	b, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	def := b.catalogues[DefaultLanguage]
	for lang, cat := range b.catalogues {
		for key, e := range def {
			other, ok := cat[key]
			if !ok {
				t.Errorf("%s: missing %q", lang, key)
				continue
			}
			if (e.forms == nil) != (other.forms == nil) {
				t.Errorf("%s: %q plural in one catalogue and not the other", lang, key)
			}
			if placeholders(e) != placeholders(other) {
				t.Errorf("%s: %q placeholders %q, want %q", lang, key, placeholders(other), placeholders(e))
			}
		}
		for key := range cat {
			if _, ok := def[key]; !ok {
				t.Errorf("%s: %q not in the %s catalogue", lang, key, DefaultLanguage)
			}
		}
	}
}

func placeholders(e entry) string {
	text := e.text
	if e.forms != nil {
		text = e.forms["other"]
	}
	var names []string
	for _, part := range strings.Split(text, "{")[1:] {
		if i := strings.Index(part, "}"); i > 0 {
			names = append(names, part[:i])
		}
	}
	return strings.Join(names, ",")
}

// Number writes what x/text's printer writes for the language, without
// calling it: the grouping is learnt once per language.
func TestNumberMatchesThePrinter(t *testing.T) {
	b, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	ns := []int64{0, 1, -1, 7, 42, 999, -999, 1000, 1234, -1234, 9999, 10000, 12345, 99999, 100000, 123456,
		999999, 1000000, 1234567, 12345678, 123456789, 1000000000, 9007199254740991, math.MaxInt64, math.MinInt64 + 1, math.MinInt64}
	for _, lang := range b.Languages() {
		p := b.Printer(lang)
		// A language of another shape may go through the printer; the
		// default one must not, or the fast path would go untested.
		if lang == DefaultLanguage && !p.grouping.ok {
			t.Errorf("%s: grouping not learnt from %q: every Number goes through the printer", lang, p.numbers.Sprintf("%d", 1234567))
		}
		for _, n := range ns {
			if got, want := p.Number(n), p.numbers.Sprintf("%d", n); got != want {
				t.Errorf("%s: Number(%d) = %q, printer %q", lang, n, got, want)
			}
		}
	}
}

// fill gives what replacing every "{name}" of the arguments at once gives,
// for every message of every catalogue and for placeholders that are
// doubled, unknown, unclosed or nested.
func TestFillReplacesPlaceholders(t *testing.T) {
	b, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	args := []any{"n", "12", "min", "3", "max", "9", "time", "14:05", "ahead", "40 people", "wait", "5 to 9 minutes", "room", "Sale", "site", "shop.example"}
	reference := func(text string, args []any) string {
		var pairs []string
		for i := 0; i+1 < len(args); i += 2 {
			pairs = append(pairs, "{"+fmt.Sprint(args[i])+"}", fmt.Sprint(args[i+1]))
		}
		return strings.NewReplacer(pairs...).Replace(text)
	}
	p := b.Printer(DefaultLanguage)
	for lang, cat := range b.catalogues {
		for key, e := range cat {
			texts := []string{e.text}
			for _, f := range e.forms {
				texts = append(texts, f)
			}
			for _, text := range texts {
				if got, want := p.fill(text, args), reference(text, args); got != want {
					t.Errorf("%s %s: fill %q, want %q", lang, key, got, want)
				}
			}
		}
	}
	odd := []string{"{n}{n}", "{{n}}", "{n", "n}", "{}", "{unknown} {n}", "{ n }", "a{b{n}c}d", "", "no braces", "{n}{"}
	for _, text := range odd {
		if got, want := p.fill(text, []any{"n", 5, "b", "B"}), reference(text, []any{"n", 5, "b", "B"}); got != want {
			t.Errorf("fill(%q) = %q, want %q", text, got, want)
		}
	}
}
