// Package i18n holds the message catalogues of the web pages (waiting room
// and control panel) and picks the visitor's language.
//
// Catalogues are JSON files under locales/, one per language, embedded in
// the binary. A message is either a string or a plural object keyed by CLDR
// plural category ("one", "few", "many", "other") with optional exact
// matches ("=0"). Placeholders are written {name} and filled from the
// arguments of T and N; {n} is the count of N, formatted for the language.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:embed locales/*.json
var embedded embed.FS

// DefaultLanguage is used when nothing the visitor asks for is available,
// and for any message missing from another catalogue.
const DefaultLanguage = "en"

// message is one catalogue entry: a plain text or plural forms.
type entry struct {
	text  string
	forms map[string]string
}

func (e *entry) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &e.text)
	}
	if err := json.Unmarshal(b, &e.forms); err != nil {
		return err
	}
	if _, ok := e.forms["other"]; !ok {
		return fmt.Errorf("plural message without an \"other\" form")
	}
	return nil
}

type catalogue map[string]entry

// Bundle is the set of loaded catalogues. It is safe for concurrent use.
type Bundle struct {
	catalogues map[string]catalogue
	names      []string // language codes, default first
	matcher    language.Matcher
	printers   map[string]*Printer
	// chosen remembers the language picked for an Accept-Language value:
	// browsers send few distinct values, and the status poll is hot.
	chosen     sync.Map // header -> language code
	chosenSize atomic.Int64
}

// maxChosen bounds the Accept-Language memo, whatever clients send.
const maxChosen = 4096

// Load reads the embedded catalogues.
func Load() (*Bundle, error) { return LoadFS(embedded, "locales") }

// LoadFS reads every <lang>.json in dir of fsys. The default language must
// be present: it is the fallback for missing messages.
func LoadFS(fsys fs.FS, dir string) (*Bundle, error) {
	files, err := fs.Glob(fsys, path.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	b := &Bundle{catalogues: map[string]catalogue{}}
	for _, f := range files {
		lang := strings.TrimSuffix(path.Base(f), ".json")
		cat, err := readCatalogue(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", f, err)
		}
		b.catalogues[lang] = cat
	}
	if _, ok := b.catalogues[DefaultLanguage]; !ok {
		return nil, fmt.Errorf("i18n: no %s catalogue in %s", DefaultLanguage, dir)
	}
	b.names = sortedLanguages(b.catalogues)
	tags := make([]language.Tag, len(b.names))
	for i, n := range b.names {
		tags[i] = language.Make(n)
	}
	b.matcher = language.NewMatcher(tags)
	b.printers = make(map[string]*Printer, len(b.names))
	for _, n := range b.names {
		b.printers[n] = b.newPrinter(n)
	}
	return b, nil
}

func readCatalogue(fsys fs.FS, name string) (catalogue, error) {
	raw, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	var cat catalogue
	if err := json.Unmarshal(raw, &cat); err != nil {
		return nil, err
	}
	return cat, nil
}

// sortedLanguages lists the languages with the default first, so that the
// matcher falls back to it.
func sortedLanguages(cats map[string]catalogue) []string {
	names := []string{DefaultLanguage}
	for n := range cats {
		if n != DefaultLanguage {
			names = append(names, n)
		}
	}
	sort.Strings(names[1:])
	return names
}

// Languages returns the available language codes, default first.
func (b *Bundle) Languages() []string { return append([]string(nil), b.names...) }

// Negotiate picks the language of a request: a supported ?lang= first, then
// the Accept-Language header, then the default.
func (b *Bundle) Negotiate(r *http.Request) *Printer {
	if lang := r.URL.Query().Get("lang"); lang != "" {
		if _, ok := b.catalogues[lang]; ok {
			return b.Printer(lang)
		}
	}
	header := r.Header.Get("Accept-Language")
	if lang, ok := b.chosen.Load(header); ok {
		return b.Printer(lang.(string))
	}
	lang := b.match(header)
	if len(header) <= 256 && b.chosenSize.Load() < maxChosen {
		if _, loaded := b.chosen.LoadOrStore(header, lang); !loaded {
			b.chosenSize.Add(1)
		}
	}
	return b.Printer(lang)
}

func (b *Bundle) match(header string) string {
	tags, _, _ := language.ParseAcceptLanguage(header)
	_, index, conf := b.matcher.Match(tags...)
	if conf == language.No {
		return DefaultLanguage
	}
	return b.names[index]
}

// Printer returns the printer of lang (the default language if unknown).
// Printers are shared and safe for concurrent use.
func (b *Bundle) Printer(lang string) *Printer {
	if p, ok := b.printers[lang]; ok {
		return p
	}
	return b.printers[DefaultLanguage]
}

func (b *Bundle) newPrinter(lang string) *Printer {
	cat, ok := b.catalogues[lang]
	if !ok {
		lang, cat = DefaultLanguage, b.catalogues[DefaultLanguage]
	}
	tag := language.Make(lang)
	p := &Printer{
		Lang:     lang,
		tag:      tag,
		cat:      cat,
		fallback: b.catalogues[DefaultLanguage],
		numbers:  message.NewPrinter(tag),
	}
	p.grouping = learnGrouping(p.numbers)
	return p
}

// grouping is how a language writes the thousands of an integer, learnt
// once from x/text's printer so that Number need not call it on every
// status poll. ok is false when the printer's output does not have the
// simple shape of ASCII digits in groups of three from four digits on
// (other digits, other group sizes, a minimum of five digits to group):
// Number then asks the printer every time.
type grouping struct {
	sep string
	ok  bool
}

func learnGrouping(numbers *message.Printer) grouping {
	seven := numbers.Sprintf("%d", 1234567)
	// "1" sep "234" sep "567": seven digits and two separators.
	if len(seven) < 9 || (len(seven)-7)%2 != 0 {
		return grouping{}
	}
	sep := seven[1 : 1+(len(seven)-7)/2]
	if sep == "" || seven != "1"+sep+"234"+sep+"567" || strings.ContainsAny(sep, "0123456789") {
		return grouping{}
	}
	if numbers.Sprintf("%d", 1234) != "1"+sep+"234" {
		return grouping{}
	}
	return grouping{sep: sep, ok: true}
}

// Printer renders messages in one language.
type Printer struct {
	// Lang is the language code, for <html lang> and the status URL.
	Lang     string
	tag      language.Tag
	cat      catalogue
	fallback catalogue
	numbers  *message.Printer
	grouping grouping
}

func (p *Printer) lookup(key string) (entry, bool) {
	if e, ok := p.cat[key]; ok {
		return e, true
	}
	e, ok := p.fallback[key]
	return e, ok
}

// T renders the message key; args are name, value pairs for placeholders.
// A missing key renders as the key itself, so a gap shows instead of
// breaking the page.
func (p *Printer) T(key string, args ...any) string {
	e, ok := p.lookup(key)
	if !ok {
		return key
	}
	text := e.text
	if e.forms != nil {
		text = e.forms["other"]
	}
	return p.fill(text, args)
}

// N renders the plural message key for count n; {n} is the formatted count.
func (p *Printer) N(key string, n int64, args ...any) string {
	e, ok := p.lookup(key)
	if !ok {
		return key
	}
	text := e.text
	if e.forms != nil {
		text = e.forms[p.form(e.forms, n)]
	}
	return p.fill(text, append([]any{"n", p.Number(n)}, args...))
}

// form chooses the plural form of n: an exact "=n" match, then the CLDR
// category of the language, then "other".
func (p *Printer) form(forms map[string]string, n int64) string {
	if _, ok := forms["="+strconv.FormatInt(n, 10)]; ok {
		return "=" + strconv.FormatInt(n, 10)
	}
	abs := n
	if abs < 0 {
		abs = -abs
	}
	i := int(abs % 1000000000)
	if abs >= 1000000000 {
		i = int(abs%1000000) + 1000000 // keeps the "multiple of a million" rule of some languages
	}
	name := formName(plural.Cardinal.MatchPlural(p.tag, i, 0, 0, 0, 0))
	if _, ok := forms[name]; ok {
		return name
	}
	return "other"
}

func formName(f plural.Form) string {
	switch f {
	case plural.Zero:
		return "zero"
	case plural.One:
		return "one"
	case plural.Two:
		return "two"
	case plural.Few:
		return "few"
	case plural.Many:
		return "many"
	}
	return "other"
}

// Number formats n with the language's digit grouping.
func (p *Printer) Number(n int64) string {
	g := p.grouping
	if !g.ok || n == math.MinInt64 {
		return p.numbers.Sprintf("%d", n)
	}
	digits := strconv.FormatInt(n, 10)
	sign := ""
	if n < 0 {
		sign, digits = "-", digits[1:]
	}
	if len(digits) <= 3 {
		return sign + digits
	}
	var b strings.Builder
	b.Grow(len(sign) + len(digits) + len(g.sep)*(len(digits)/3))
	b.WriteString(sign)
	head := len(digits) % 3
	if head == 0 {
		head = 3
	}
	b.WriteString(digits[:head])
	for i := head; i < len(digits); i += 3 {
		b.WriteString(g.sep)
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

// fill replaces each {name} of text with the value given for name in args
// (name, value pairs); a placeholder without a value stays as written.
func (p *Printer) fill(text string, args []any) string {
	if len(args) == 0 || !strings.Contains(text, "{") {
		return text
	}
	var b strings.Builder
	b.Grow(len(text) + 16)
	for {
		i := strings.IndexByte(text, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(text[i+1:], '}')
		if j < 0 {
			break
		}
		name := text[i+1 : i+1+j]
		if strings.IndexByte(name, '{') >= 0 {
			// "{{n}": the placeholder starts at a later brace.
			b.WriteString(text[:i+1])
			text = text[i+1:]
			continue
		}
		if v, ok := argValue(args, name); ok {
			b.WriteString(text[:i])
			b.WriteString(v)
		} else {
			b.WriteString(text[:i+j+2])
		}
		text = text[i+j+2:]
	}
	b.WriteString(text)
	return b.String()
}

// argValue is the value of name in args (name, value pairs), in words.
func argValue(args []any, name string) (string, bool) {
	for i := 0; i+1 < len(args); i += 2 {
		if k, _ := args[i].(string); k == name {
			if v, ok := args[i+1].(string); ok {
				return v, true
			}
			return fmt.Sprint(args[i+1]), true
		}
	}
	return "", false
}
