package web

import "testing"

func TestFormatMoney(t *testing.T) {
	cases := []struct {
		amount   int64
		currency string
		want     string
	}{
		{1750, "EUR", "EUR 17.50"},
		{5, "EUR", "EUR 0.05"},
		{0, "USD", "USD 0.00"},
		{-250, "EUR", "EUR -2.50"},
		{1500, "JPY", "JPY 1500"},
		{1234, "KWD", "KWD 1.234"},
	}
	for _, tc := range cases {
		if got := formatMoney(tc.amount, tc.currency); got != tc.want {
			t.Errorf("formatMoney(%d, %s): got %q, want %q", tc.amount, tc.currency, got, tc.want)
		}
	}
}
