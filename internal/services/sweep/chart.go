package sweep

import (
	"fmt"
	"strings"

	"github.com/tokenloom/tokenloom/internal/services/diagram"
)

// Colour slots of the chart's lines: the ideals grey, so that a measure
// that follows its ideal does not hide it.
const (
	aggregateSlot = 0
	perStreamSlot = 1
	idealSlot     = 7
)

// Chart is the sweep's picture: the aggregate and the per-stream tokens
// per second against the number of streams, each beside its ideal (the
// aggregate growing as the streams, each stream as fast as alone), with
// the sentences read from them under it.
func (r *Result) Chart() diagram.Chart {
	pts := r.Points()
	c := diagram.Chart{
		Title:  r.Title(),
		XLabel: "streams at once",
		YLabel: "tokens/s",
		Notes:  r.Sentences(),
	}
	for _, n := range r.Spec.Streams {
		c.XTicks = append(c.XTicks, float64(n))
	}
	var agg, per, aggIdeal, perIdeal []diagram.ChartPoint
	for _, p := range pts {
		x := float64(p.Streams)
		agg = append(agg, diagram.ChartPoint{X: x, Y: p.AggregateTokensPerS})
		per = append(per, diagram.ChartPoint{X: x, Y: p.PerStreamTokensPerS})
	}
	if len(pts) > 0 && pts[0].Streams == 1 {
		for _, n := range r.Spec.Streams {
			x := float64(n)
			aggIdeal = append(aggIdeal, diagram.ChartPoint{X: x, Y: x * pts[0].AggregateTokensPerS})
			perIdeal = append(perIdeal, diagram.ChartPoint{X: x, Y: pts[0].PerStreamTokensPerS})
		}
	}
	c.Series = []diagram.Series{
		{Label: "aggregate", Slot: aggregateSlot, Points: agg},
		{Label: "ideal aggregate (N × 1 stream's)", Slot: idealSlot, Dashed: true, Points: aggIdeal},
		{Label: "per stream (median)", Slot: perStreamSlot, Points: per},
		{Label: "ideal per stream (as alone)", Slot: idealSlot, Dashed: true, Points: perIdeal},
	}
	return c
}

// Title names the sweep: "tiny at 1, 2, 4 and 8 streams at once, 3
// repeats, 128 tokens each".
func (r *Result) Title() string {
	ns := make([]string, len(r.Spec.Streams))
	for i, n := range r.Spec.Streams {
		ns[i] = fmt.Sprint(n)
	}
	list := strings.Join(ns, ", ")
	if k := len(ns); k > 1 {
		list = strings.Join(ns[:k-1], ", ") + " and " + ns[k-1]
	}
	s := fmt.Sprintf("%s at %s streams at once", r.Spec.Name(), list)
	if r.Spec.Repeat > 1 {
		s += fmt.Sprintf(", %d repeats", r.Spec.Repeat)
	}
	if n := r.Spec.Options.NumPredict; n != nil && *n > 0 {
		s += fmt.Sprintf(", up to %d tokens each", *n)
	}
	if r.Stopped {
		s += " (stopped)"
	}
	return s
}
