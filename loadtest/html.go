package loadtest

import (
	"bytes"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// chart is one titled SVG drawing for the HTML page.
type chart struct {
	Title string
	SVG   template.HTML
	// Note explains the chart in a sentence.
	Note string
}

// HTML renders the report as one self-contained HTML page: the summary,
// the checks and charts over time, drawn as inline SVG by gonum/plot. The
// page loads nothing from elsewhere.
func (r *Report) HTML() ([]byte, error) {
	charts, err := r.charts()
	if err != nil {
		return nil, err
	}
	var summary strings.Builder
	r.WriteSummary(&summary)

	var buf bytes.Buffer
	err = pageTemplate.Execute(&buf, struct {
		*Report
		Summary string
		Charts  []chart
		Ops     []string
	}{r, summary.String(), charts, operations})
	if err != nil {
		return nil, fmt.Errorf("render report page: %w", err)
	}
	return buf.Bytes(), nil
}

func (r *Report) charts() ([]chart, error) {
	builders := []struct {
		title, note string
		draw        func() (*plot.Plot, error)
	}{
		{"Visitors waiting", "Visitors of this run waiting in line (pre-queue included) or booking, as they saw it, and the room's line from the admin API. The server's line falls first: a visitor learns of an admission at its next poll.", r.waitingPlot},
		{"Admissions per second", "Admissions from the server's log per second, against the configured rate, or in auto mode the controller's rate and the rehearsal backend's capacity.", r.admissionsPlot},
		{"Booking latency", "Percentiles of slot, hold, pay and order requests in each sample interval.", r.latencyPlot},
		{"Errors by kind", "Failed requests per second by operation and kind; expected outcomes such as declined cards are not errors.", r.errorsPlot},
	}
	out := make([]chart, 0, len(builders))
	for _, b := range builders {
		p, err := b.draw()
		if err != nil {
			return nil, fmt.Errorf("draw chart %q: %w", b.title, err)
		}
		svg, err := renderSVG(p)
		if err != nil {
			return nil, fmt.Errorf("draw chart %q: %w", b.title, err)
		}
		out = append(out, chart{Title: b.title, Note: b.note, SVG: svg})
	}
	return out, nil
}

// newPlot returns a plot with the time axis every chart shares.
func newPlot(yLabel string) *plot.Plot {
	p := plot.New()
	p.X.Label.Text = "seconds since start"
	p.Y.Label.Text = yLabel
	p.Y.Min = 0
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	return p
}

// addLine adds a named line in the i-th standard color.
func addLine(p *plot.Plot, name string, i int, pts plotter.XYs) error {
	if len(pts) == 0 {
		return nil
	}
	line, err := plotter.NewLine(pts)
	if err != nil {
		return err
	}
	line.Color = plotutil.Color(i)
	line.Width = vg.Points(1.5)
	p.Add(line)
	p.Legend.Add(name, line)
	return nil
}

func (r *Report) points(value func(Sample) (float64, bool)) plotter.XYs {
	pts := make(plotter.XYs, 0, len(r.Samples))
	for _, s := range r.Samples {
		if v, ok := value(s); ok {
			pts = append(pts, plotter.XY{X: s.Seconds, Y: v})
		}
	}
	return pts
}

func (r *Report) waitingPlot() (*plot.Plot, error) {
	p := newPlot("visitors")
	always := func(f func(Sample) int64) func(Sample) (float64, bool) {
		return func(s Sample) (float64, bool) { return float64(f(s)), true }
	}
	lines := []struct {
		name  string
		value func(Sample) (float64, bool)
	}{
		{"waiting (load tester)", always(func(s Sample) int64 { return s.Waiting })},
		{"in pre-queue (load tester)", always(func(s Sample) int64 { return s.Prequeue })},
		{"booking (load tester)", always(func(s Sample) int64 { return s.Booking })},
		{"waiting (server)", func(s Sample) (float64, bool) {
			if s.Server == nil {
				return 0, false
			}
			return float64(s.Server.Waiting + s.Server.Prequeue), true
		}},
	}
	for i, l := range lines {
		if err := addLine(p, l.name, i, r.points(l.value)); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (r *Report) admissionsPlot() (*plot.Plot, error) {
	p := newPlot("admissions per second")
	pts := make(plotter.XYs, len(r.AdmissionsPerSecond))
	for i, n := range r.AdmissionsPerSecond {
		pts[i] = plotter.XY{X: float64(i) + 0.5, Y: float64(n)}
	}
	if err := addLine(p, "admitted (server log)", 0, pts); err != nil {
		return nil, err
	}

	end := r.Seconds
	if n := len(r.AdmissionsPerSecond); float64(n) > end {
		end = float64(n)
	}
	opens := r.OpensAt.Sub(r.StartedAt).Seconds()
	if r.Scenario.RoomSettings.Mode == "auto" {
		// The controller moves the rate: draw it as sampled, and the
		// rehearsal backend's capacity when known.
		rate := r.points(func(s Sample) (float64, bool) {
			if s.Server == nil {
				return 0, false
			}
			return s.Server.RatePerMinute / 60, true
		})
		if err := addLine(p, "controller's rate", 1, rate); err != nil {
			return nil, err
		}
		if len(r.CapacityChanges) > 0 {
			capacity := r.points(func(s Sample) (float64, bool) { return s.CapacityPerMinute / 60, s.CapacityPerMinute > 0 })
			if err := addLine(p, "backend capacity (bookings)", 2, capacity); err != nil {
				return nil, err
			}
		}
		return p, nil
	}
	rate := r.Scenario.RoomSettings.RatePerMinute / 60
	configured := plotter.XYs{{X: opens, Y: rate}, {X: max(end, opens), Y: rate}}
	if err := addLine(p, "configured rate", 1, configured); err != nil {
		return nil, err
	}
	return p, nil
}

func (r *Report) latencyPlot() (*plot.Plot, error) {
	p := newPlot("milliseconds")
	lines := []struct {
		name  string
		value func(Sample) float64
	}{
		{"p50", func(s Sample) float64 { return s.BookingP50 }},
		{"p95", func(s Sample) float64 { return s.BookingP95 }},
		{"p99", func(s Sample) float64 { return s.BookingP99 }},
	}
	for i, l := range lines {
		pts := r.points(func(s Sample) (float64, bool) { return l.value(s), s.BookingRequests > 0 })
		if err := addLine(p, l.name, i, pts); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// maxErrorLines bounds the error kinds drawn; the rest are summed.
const maxErrorLines = 6

func (r *Report) errorsPlot() (*plot.Plot, error) {
	p := newPlot("failed requests per second")
	kinds := sortedKeys(r.ErrorsByKind)
	slices.SortStableFunc(kinds, func(a, b string) int { return cmpInt(r.ErrorsByKind[b], r.ErrorsByKind[a]) })
	drawn := kinds[:min(len(kinds), maxErrorLines)]

	interval := 1.0
	if len(r.Samples) > 1 {
		interval = max(1e-3, r.Samples[1].Seconds-r.Samples[0].Seconds)
	}
	for i, kind := range drawn {
		pts := r.points(func(s Sample) (float64, bool) { return float64(s.ErrorsByKind[kind]) / interval, true })
		if err := addLine(p, kind, i, pts); err != nil {
			return nil, err
		}
	}
	if len(kinds) > len(drawn) {
		rest := kinds[len(drawn):]
		pts := r.points(func(s Sample) (float64, bool) {
			n := int64(0)
			for _, k := range rest {
				n += s.ErrorsByKind[k]
			}
			return float64(n) / interval, true
		})
		if err := addLine(p, "other kinds", len(drawn), pts); err != nil {
			return nil, err
		}
	}
	if len(kinds) == 0 {
		if err := addLine(p, "no failed requests", 0, r.points(func(Sample) (float64, bool) { return 0, true })); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// renderSVG draws p as an SVG element without the XML prolog, so it can be
// placed inline in HTML.
func renderSVG(p *plot.Plot) (template.HTML, error) {
	// Counts are never negative; a chart of zeros would otherwise span
	// -1 to 1.
	p.Y.Min = 0
	if p.Y.Max <= 0 {
		p.Y.Max = 1
	}
	canvas := vgsvg.New(7.5*vg.Inch, 3.2*vg.Inch)
	p.Draw(draw.New(canvas))
	var buf bytes.Buffer
	if _, err := canvas.WriteTo(&buf); err != nil {
		return "", err
	}
	svg := buf.String()
	if i := strings.Index(svg, "<svg"); i > 0 {
		svg = svg[i:]
	}
	return template.HTML(svg), nil // #nosec G203 -- gonum/plot output, labels escaped by its SVG writer
}

var pageTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"upper": strings.ToUpper,
	"ms":    func(v float64) string { return fmt.Sprintf("%.2f", v) },
	"time":  func(t time.Time) string { return t.Format(time.RFC3339) },
	"statusColor": func(status string) template.CSS {
		switch status {
		case CheckPass:
			return "#1a7f37"
		case CheckFail:
			return "#cf222e"
		}
		return "#6e7781"
	},
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Foyer load test: {{.Room}} {{if .Passed}}passed{{else}}FAILED{{end}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #1f2328; }
h1 { font-size: 1.5rem; }
.verdict { font-weight: bold; font-size: 1.2rem; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #d0d7de; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1.5rem 0; }
figure svg { max-width: 100%; height: auto; }
pre { background: #f6f8fa; padding: 1rem; overflow-x: auto; font-size: 0.85rem; }
</style>
</head>
<body>
<h1>Foyer load test of room {{.Room}}</h1>
<p class="verdict" style="color: {{if .Passed}}#1a7f37{{else}}#cf222e{{end}}">{{if .Passed}}Every check passed.{{else}}{{len .Failed}} of {{len .Checks}} checks failed.{{end}}</p>
<p>Event {{.Event}}, seed {{.Seed}}, started {{time .StartedAt}}, ran {{printf "%.1f" .Seconds}} s ({{.Ending}}). Targets: {{range $i, $t := .Targets}}{{if $i}}, {{end}}{{$t}}{{end}}. Arrivals: {{.Arrivals}}.</p>

<h2>Checks</h2>
<table>
<tr><th>check</th><th>result</th><th>numbers</th></tr>
{{range .Checks}}<tr><td>{{.Name}}</td><td style="color: {{statusColor .Status}}"><strong>{{upper .Status}}</strong></td><td>{{.Summary}}{{range .Examples}}<br><code>{{.}}</code>{{end}}</td></tr>
{{end}}</table>

<h2>Latency</h2>
<table>
<tr><th>request</th><th>count</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th></tr>
{{range $op := .Ops}}{{with index $.Latency $op}}{{if .Count}}<tr><td>{{$op}}</td><td class="num">{{.Count}}</td><td class="num">{{ms .P50}}</td><td class="num">{{ms .P95}}</td><td class="num">{{ms .P99}}</td><td class="num">{{ms .Max}}</td></tr>
{{end}}{{end}}{{end}}</table>

<h2>Over time</h2>
{{range .Charts}}<figure>
<figcaption><strong>{{.Title}}.</strong> {{.Note}}</figcaption>
{{.SVG}}
</figure>
{{end}}
<h2>Summary</h2>
<pre>{{.Summary}}</pre>
</body>
</html>
`))
