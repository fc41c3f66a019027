package i18n

import (
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
