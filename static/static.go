// Package static holds the CSS and JavaScript of waitroom's pages,
// embedded so the binary needs no files and no build step.
package static

import "embed"

// FS holds every static file of this folder.
//
//go:embed *.css *.js
var FS embed.FS
