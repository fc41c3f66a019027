// Package templates holds the HTML templates of waitroom's pages (the
// waiting room, notices and errors, the demo relying party), embedded so
// the binary needs no files at run time.
package templates

import "embed"

// FS holds every template file of this folder.
//
//go:embed *.html
var FS embed.FS
