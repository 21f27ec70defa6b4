// Package views holds the templ components of the visitor pages. Components
// take plain view structs, never stores or services.
package views

import (
	"fmt"
	"strconv"
	"time"
)

func itoa(n int) string { return strconv.Itoa(n) }

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// Duration formats d for a visitor: "less than a minute", "about 1 minute",
// "about 12 minutes" or "about 2 hours 5 minutes".
func Duration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < 2*time.Minute:
		return "about 1 minute"
	case d < time.Hour:
		return fmt.Sprintf("about %d minutes", int(d.Round(time.Minute)/time.Minute))
	}
	h := int(d / time.Hour)
	m := int((d % time.Hour).Round(time.Minute) / time.Minute)
	if m == 0 {
		return fmt.Sprintf("about %d hours", h)
	}
	return fmt.Sprintf("about %d h %d min", h, m)
}
