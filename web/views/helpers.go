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

// aheadWords returns the words between the number of people ahead and
// "ahead of you". wait.js repeats this rule when it updates the count.
func aheadWords(n int64) string {
	if n == 1 {
		return "person is"
	}
	return "people are"
}

// placesWords returns the words after the number of places left. wait.js
// repeats this rule when it updates the count.
func placesWords(n int64) string {
	if n == 1 {
		return "place remains"
	}
	return "places remain"
}

// peopleWord returns "person" or "people" for n. wait.js repeats this
// rule.
func peopleWord(n int64) string {
	if n == 1 {
		return "person"
	}
	return "people"
}

// Duration formats d for a visitor: "less than a minute", "about 1 minute",
// "about 12 minutes", "about 2 hours" or "about 2 h 5 min".
func Duration(d time.Duration) string {
	if d < time.Minute {
		return "less than a minute"
	}
	minutes := int(d.Round(time.Minute) / time.Minute)
	if minutes < 60 {
		return fmt.Sprintf("about %d %s", minutes, plural(minutes, "minute", "minutes"))
	}
	h, m := minutes/60, minutes%60
	if m == 0 {
		return fmt.Sprintf("about %d %s", h, plural(h, "hour", "hours"))
	}
	return fmt.Sprintf("about %d h %d min", h, m)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// availabilityText describes a slot's free places in words, so that a sold
// out slot is marked by text and not by colour alone.
func availabilityText(s SlotChoice) string {
	switch {
	case s.Started:
		return "Started, no longer bookable"
	case s.SoldOut:
		return "Sold out"
	case s.Available == 1:
		return "1 place left"
	}
	return fmt.Sprintf("%d places left", s.Available)
}

// slotClass returns the CSS class of a slot's list item.
func slotClass(s SlotChoice) string {
	if s.SoldOut || s.Started {
		return "slot unavailable"
	}
	return "slot"
}

// timeLeft formats a countdown for a visitor, as in "9 minutes 58 seconds".
// countdown.js repeats this rule as it counts down.
func timeLeft(seconds int) string {
	seconds = max(0, seconds)
	minutes, rest := seconds/60, seconds%60
	switch {
	case minutes == 0:
		return fmt.Sprintf("%d %s", rest, plural(rest, "second", "seconds"))
	case rest == 0:
		return fmt.Sprintf("%d %s", minutes, plural(minutes, "minute", "minutes"))
	}
	return fmt.Sprintf("%d %s %d %s", minutes, plural(minutes, "minute", "minutes"), rest, plural(rest, "second", "seconds"))
}
