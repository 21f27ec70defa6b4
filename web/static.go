package web

import "embed"

// staticFiles are the stylesheet and scripts served under /static.
//
//go:embed static
var staticFiles embed.FS
