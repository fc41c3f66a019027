// Package templates holds the built-in HTML templates of the waiting-room
// page, the error page and the admin control panel, embedded in the binary.
//
// An operator may override any of them from a directory of files with the
// same names; a sub-directory named after a room overrides them for that
// room only (see Load).
package templates

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"os"
	"path/filepath"
)

// FS holds every built-in template.
//
//go:embed *.html panel/*.html
var FS embed.FS

var builtin = FS

// Parse parses the named page templates of the built-in set, letting files of
// the same name in overrideDir (when not empty) replace them. Every page is
// parsed together with the shared partials matching partials (a glob), so a
// page may call {{template "head" .}} and friends.
func Parse(overrideDir string, funcs template.FuncMap, partials string, pages ...string) (map[string]*template.Template, error) {
	out := make(map[string]*template.Template, len(pages))
	for _, page := range pages {
		t := template.New(page).Funcs(funcs)
		names, err := fs.Glob(builtin, partials)
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			if err := parseInto(t.New(name), overrideDir, name); err != nil {
				return nil, err
			}
		}
		if err := parseInto(t, overrideDir, page); err != nil {
			return nil, err
		}
		out[page] = t
	}
	return out, nil
}

func parseInto(t *template.Template, overrideDir, name string) error {
	src, err := read(overrideDir, name)
	if err != nil {
		return err
	}
	if _, err := t.Parse(src); err != nil {
		return fmt.Errorf("templates: %s: %w", name, err)
	}
	return nil
}

// read returns the operator's copy of name if there is one, else the
// built-in one.
func read(overrideDir, name string) (string, error) {
	if overrideDir != "" {
		b, err := os.ReadFile(filepath.Join(overrideDir, filepath.FromSlash(name)))
		if err == nil {
			return string(b), nil
		}
		if !os.IsNotExist(err) {
			return "", fmt.Errorf("templates: %w", err)
		}
	}
	b, err := fs.ReadFile(builtin, name)
	return string(b), err
}
