package figures

import (
	"fmt"

	"github.com/tokenloom/tokenloom/internal/wire"
)

// RunTime is a run's lesson: its wall time against its stream time, the sum
// of its streams' durations. Async streams overlap, so the wall time is
// shorter; sync streams follow one another, so the two are equal.
type RunTime struct {
	WallMs, StreamMs float64
}

// RunTimeOf is the run time of streams from their stats: the wall time is
// the latest end, the stream time the sum of the durations. Nil stats (a
// stream without an end) count for nothing.
func RunTimeOf(stats []*wire.Stats) RunTime {
	var r RunTime
	for _, st := range stats {
		if st != nil {
			r.WallMs = max(r.WallMs, st.EndMs)
			r.StreamMs += st.DurationMs
		}
	}
	return r
}

// Wall is the wall time in seconds, "3.00 s".
func (r RunTime) Wall() string { return fmt.Sprintf("%.2f s", r.WallMs/1000) }

// AgainstStreams is the rest of the lesson, "for 5.00 s of stream time
// (1.67×)": the stream time and how many times the wall time it is, left
// out without wall time. Each place that prints the lesson puts Wall before
// it in its own words.
func (r RunTime) AgainstStreams() string {
	s := fmt.Sprintf("for %.2f s of stream time", r.StreamMs/1000)
	if r.WallMs > 0 {
		s += fmt.Sprintf(" (%.2f×)", r.StreamMs/r.WallMs)
	}
	return s
}
