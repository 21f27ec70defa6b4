package loadtest

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// barWidth is the number of characters of the progress bar.
const barWidth = 24

// progressLine is the figures one progress update shows.
type progressLine struct {
	elapsed                    time.Duration
	total, finished            int64
	arrived, waiting, prequeue int64
	admitted, booking, booked  int64
	abandoned, errors          int64
	requests                   int64
	requestRate, admitRate     float64
}

// progress prints the run's progress until ctx ends: a bar rewritten in
// place twice a second on a terminal, or a plain line every
// Engine.ProgressEvery otherwise.
func (r *runner) progress(ctx context.Context) {
	w := r.opts.Progress
	if w == nil {
		return
	}
	every := r.scenario.Engine.ProgressEvery
	if r.opts.Terminal {
		every = 500 * time.Millisecond
	}
	ticker := time.NewTicker(every)
	defer ticker.Stop()

	last := r.readProgress()
	for {
		select {
		case <-ticker.C:
		case <-ctx.Done():
			if r.opts.Terminal {
				fmt.Fprint(w, "\r\x1b[K")
			}
			return
		}
		line := r.readProgress()
		line.requestRate = rate(line.requests-last.requests, line.elapsed-last.elapsed)
		line.admitRate = rate(line.admitted-last.admitted, line.elapsed-last.elapsed)
		if r.opts.Terminal {
			fmt.Fprint(w, "\r\x1b[K"+line.bar())
		} else {
			fmt.Fprintln(w, line.plain())
		}
		last = line
	}
}

func (r *runner) readProgress() progressLine {
	st := r.stats
	total := int64(len(r.visitors))
	return progressLine{
		elapsed:   r.now(),
		total:     total,
		finished:  total - r.remaining.Load(),
		arrived:   st.arrived.Load(),
		waiting:   st.waiting.Load(),
		prequeue:  st.prequeue.Load(),
		admitted:  st.admitted.Load(),
		booking:   st.booking.Load(),
		booked:    st.outcomes[OutcomeBooked].Load(),
		abandoned: st.outcomes[OutcomeAbandoned].Load(),
		errors:    st.failures.Load(),
		requests:  st.requests.Load(),
	}
}

func rate(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func (l progressLine) bar() string {
	done := 0
	if l.total > 0 {
		done = int(int64(barWidth) * l.finished / l.total)
	}
	return fmt.Sprintf("[%s%s] %3d%% %6s  arrived %d/%d  waiting %d  admitted %d  booked %d  abandoned %d  errors %d  %.0f req/s",
		strings.Repeat("#", done), strings.Repeat("-", barWidth-done),
		percent(l.finished, l.total), l.elapsed.Round(time.Second),
		l.arrived, l.total, l.waiting, l.admitted, l.booked, l.abandoned, l.errors, l.requestRate)
}

func (l progressLine) plain() string {
	return fmt.Sprintf("t=%s finished=%d/%d arrived=%d waiting=%d prequeue=%d admitted=%d booking=%d booked=%d abandoned=%d errors=%d requests_per_s=%.0f admitted_per_s=%.1f",
		l.elapsed.Round(time.Second), l.finished, l.total, l.arrived, l.waiting, l.prequeue,
		l.admitted, l.booking, l.booked, l.abandoned, l.errors, l.requestRate, l.admitRate)
}

func percent(n, total int64) int64 {
	if total == 0 {
		return 0
	}
	return 100 * n / total
}
