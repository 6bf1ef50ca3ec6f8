package figures

import (
	"fmt"
	"math"
	"strings"

	"github.com/tokenloom/tokenloom/internal/wire"
)

// Comparison is the same streams run one after another (sync), then side
// by side (async): the lesson of Tokenloom in two runs.
type Comparison struct {
	Sync, Async RunTime
	// Models are the streams' model names; SyncStats and AsyncStats their
	// final stats in each run (nil for a stream without an end), in the
	// same order.
	Models                []string
	SyncStats, AsyncStats []*wire.Stats
}

// Compare puts a sync run and an async run of the same streams side by
// side.
func Compare(sync, async []*wire.Stats, models []string) Comparison {
	return Comparison{Sync: RunTimeOf(sync, models...), Async: RunTimeOf(async, models...),
		Models: models, SyncStats: sync, AsyncStats: async}
}

// SavedMs is the wall time async saved against sync; negative when it
// took longer.
func (c Comparison) SavedMs() float64 { return c.Sync.WallMs - c.Async.WallMs }

// sameShare is the least part of the sync run's wall time that counts as a
// difference: less is the noise of two runs of the same streams.
const sameShare = 0.05

// AsyncSaved reports whether async saved time worth saying: more than
// the noise between two runs of the same streams.
func (c Comparison) AsyncSaved() bool {
	return c.Sync.WallMs > 0 && c.SavedMs() >= sameShare*c.Sync.WallMs
}

// Saved says what async saved: "async saved 2.00 s (40%)", "async saved
// nothing", or "async took 0.20 s longer".
func (c Comparison) Saved() string {
	saved := c.SavedMs()
	switch {
	case c.Sync.WallMs <= 0 || math.Abs(saved) < sameShare*c.Sync.WallMs:
		return "async saved nothing"
	case saved < 0:
		return fmt.Sprintf("async took %.2f s longer", -saved/1000)
	}
	return fmt.Sprintf("async saved %.2f s (%.0f%%)", saved/1000, 100*saved/c.Sync.WallMs)
}

// Lesson reads the comparison's figures in a few sentences: what waited in
// the sync run, what overlapped in the async one, what the model server
// did, and what async saved. Every sentence is chosen by the figures, so it
// holds for the runs it describes: streams a model server answered one at
// a time are not said to overlap.
func (c Comparison) Lesson() string {
	var says []string
	says = append(says, c.syncLesson(), c.asyncLesson())
	saved := c.Saved()
	says = append(says, strings.ToUpper(saved[:1])+saved[1:]+".")
	for _, run := range []struct {
		name string
		r    RunTime
	}{{"sync", c.Sync}, {"async", c.Async}} {
		if l := run.r.loadCaveat(); l != "" {
			says = append(says, "In the "+run.name+" run, "+l+".")
		}
	}
	return strings.Join(says, " ")
}

// streams names n streams: "2 streams", "1 stream".
func streams(n int) string {
	if n == 1 {
		return "1 stream"
	}
	return fmt.Sprintf("%d streams", n)
}

// ended are the indexes of the streams with stats.
func ended(stats []*wire.Stats) []int {
	var out []int
	for i, st := range stats {
		if st != nil {
			out = append(out, i)
		}
	}
	return out
}

func (c Comparison) model(i int) string {
	if i < len(c.Models) && c.Models[i] != "" {
		return c.Models[i]
	}
	return fmt.Sprintf("stream %d", i+1)
}

// syncLesson: the streams waited for one another.
func (c Comparison) syncLesson() string {
	idx := ended(c.SyncStats)
	if len(idx) == 0 {
		return "The sync run has no stream that ended."
	}
	var took string
	if len(idx) <= 4 {
		parts := make([]string, len(idx))
		for k, i := range idx {
			d := fmt.Sprintf("%.2f s", c.SyncStats[i].DurationMs/1000)
			switch k {
			case 0:
				parts[k] = c.model(i) + " took " + d
			case len(idx) - 1:
				parts[k] = "then " + c.model(i) + " " + d
			default:
				parts[k] = c.model(i) + " " + d
			}
		}
		took = strings.Join(parts, ", ")
	} else {
		lo, hi := math.Inf(1), 0.0
		for _, i := range idx {
			lo, hi = min(lo, c.SyncStats[i].DurationMs), max(hi, c.SyncStats[i].DurationMs)
		}
		took = fmt.Sprintf("%s of %.2f to %.2f s each", streams(len(idx)), lo/1000, hi/1000)
	}
	s := "One after another (sync), each stream waited for the one before it to end: " + took + "; the run took " + c.Sync.Wall()
	if math.Abs(c.Sync.WallMs-c.Sync.StreamMs) <= sameShare*c.Sync.WallMs {
		return s + ", the sum of its streams."
	}
	return s + fmt.Sprintf(" for %.2f s of stream time.", c.Sync.StreamMs/1000)
}

// asyncLesson: what overlapped, and what the model server did.
func (c Comparison) asyncLesson() string {
	a := c.Async
	idx := ended(c.AsyncStats)
	if len(idx) == 0 {
		return "The async run has no stream that ended."
	}
	sent := fmt.Sprintf("Side by side (async), all %s were sent at once", streams(len(idx)))
	if len(idx) == 1 {
		sent = "Side by side (async), the one stream was sent at once"
	}
	const server = " (Ollama answers one request per model at a time unless OLLAMA_NUM_PARALLEL says more; it is 1 by default since 0.10)"
	if a.Queued > 0 && a.Generated >= 2 && !a.Overlapped {
		others := "the others waited"
		if len(idx) == 2 {
			others = "the other waited"
		}
		return sent + ", but the model server answered them one at a time: " + others + " in its queue (hatched on the timeline) while one was generated" + server +
			fmt.Sprintf(". A server that does not interleave gives async nothing back: %s against %s one after another.", a.Wall(), c.Sync.Wall())
	}
	if !a.Overlapped {
		return sent + ", but no two of them were ever generated at the same time: " + fmt.Sprintf("the run took %s for %.2f s of stream time.", a.Wall(), a.StreamMs/1000)
	}
	longest := idx[0]
	for _, i := range idx {
		if c.AsyncStats[i].DurationMs > c.AsyncStats[longest].DurationMs {
			longest = i
		}
	}
	l := c.AsyncStats[longest].DurationMs
	s := sent + " and their waits overlapped: the run took " + a.Wall()
	if a.WallMs <= l*(1+sameShare)+50 {
		s += fmt.Sprintf(", about as long as its longest stream (%s, %.2f s), not the sum of them (%.2f s).", c.model(longest), l/1000, a.StreamMs/1000)
	} else {
		s += fmt.Sprintf(", less than the sum of its streams (%.2f s).", a.StreamMs/1000)
	}
	if a.Queued > 0 {
		s += fmt.Sprintf(" %s waited %.2f s in the model server's queue: it answered some of them one at a time%s.", strings.ToUpper(streams(a.Queued)[:1])+streams(a.Queued)[1:], a.QueuedMs/1000, server)
	}
	return s
}
