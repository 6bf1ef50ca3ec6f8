package bench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/tokenloom/tokenloom/internal/testkit/fakeclock"
	"github.com/tokenloom/tokenloom/server"
)

// pacedReading is what a reader of one paced reply got: each line with the
// clock's time when it was whole, and the error that ended the reply.
type pacedReading struct {
	lines []string
	at    []time.Time
	err   error
}

// readPaced reads bodies through a tap paced at rate on a fake clock that
// moves only when every reader waits for its next line, so the times are
// the pacing's own, whatever the machine's speed.
func readPaced(t *testing.T, bodies []io.Reader, rate float64) (*pacing, []pacedReading, []*tapReply) {
	t.Helper()
	clock := fakeclock.New(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	p := newPacing(clock, len(bodies), rate)
	tp := &tap{}
	tp.pace(p)
	got := make([]pacedReading, len(bodies))
	var running atomic.Int32
	running.Store(int32(len(bodies)))
	var wg sync.WaitGroup
	for i, body := range bodies {
		r := tp.newLineReader(t.Context(), io.NopCloser(body), strconv.Itoa(i))
		wg.Go(func() {
			defer running.Add(-1)
			// A small buffer: a line comes in several reads, and nothing
			// of the next line is asked for before this one is whole.
			br := bufio.NewReaderSize(r, 16)
			for {
				line, err := br.ReadString('\n')
				if line != "" {
					got[i].lines = append(got[i].lines, line)
					got[i].at = append(got[i].at, clock.Now())
				}
				if err != nil {
					if !errors.Is(err, io.EOF) {
						got[i].err = err
					}
					return
				}
			}
		})
	}
	if err := clock.RunUntilIdle(t.Context(), func() int { return int(running.Load()) }); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	return p, got, tp.take()
}

// TestPacedTapReleasesLinesOnSchedule: paced, the tap holds the lines of
// every reply, whole in its hands from the start, and releases line k of
// reply i of n at start + (k + i/n) / rate, not a nanosecond earlier or
// later on its clock; it notes each line at its release.
func TestPacedTapReleasesLinesOnSchedule(t *testing.T) {
	const replies, lines, rate = 3, 6, 50.0
	var bodies []io.Reader
	var want [][]string
	for i := range replies {
		var b strings.Builder
		want = append(want, nil)
		for k := range lines {
			line := fmt.Sprintf(`{"reply":%d,"line":%d}`+"\n", i, k)
			b.WriteString(line)
			want[i] = append(want[i], line)
		}
		bodies = append(bodies, iotest.HalfReader(strings.NewReader(b.String())))
	}
	p, got, noted := readPaced(t, bodies, rate)
	if len(noted) != replies {
		t.Fatalf("%d replies noted, want %d", len(noted), replies)
	}
	for i := range replies {
		if got[i].err != nil {
			t.Fatalf("reply %d: %v", i, got[i].err)
		}
		if len(got[i].lines) != lines {
			t.Fatalf("reply %d: %d lines read, want %d", i, len(got[i].lines), lines)
		}
		reply := noted[i]
		if reply.key != strconv.Itoa(i) || len(reply.lines) != lines {
			t.Fatalf("reply %d noted as %q with %d lines", i, reply.key, len(reply.lines))
		}
		for k := range lines {
			// 20 ms between the lines of a reply, the replies a third of
			// that apart.
			due := p.start.Add(time.Duration(k*replies+i) * time.Second / (replies * rate))
			if got[i].lines[k] != want[i][k] || !got[i].at[k].Equal(due) {
				t.Errorf("reply %d line %d: %q read at +%v, want %q at +%v",
					i, k, got[i].lines[k], got[i].at[k].Sub(p.start), want[i][k], due.Sub(p.start))
			}
			if !reply.lines[k].at.Equal(due) || string(reply.lines[k].line)+"\n" != want[i][k] {
				t.Errorf("reply %d line %d noted %q at +%v, want at +%v", i, k, reply.lines[k].line, reply.lines[k].at.Sub(p.start), due.Sub(p.start))
			}
		}
	}
}

// TestPacedTapBrokenReply: a reply that breaks still releases the lines
// it had, on time, and then gives the break to its reader.
func TestPacedTapBrokenReply(t *testing.T) {
	broken := errors.New("connection reset")
	body := io.MultiReader(strings.NewReader("{\"a\":1}\n{\"b\":2}\n{\"c\""), iotest.ErrReader(broken))
	p, got, _ := readPaced(t, []io.Reader{body}, 10)
	want := []string{"{\"a\":1}\n", "{\"b\":2}\n", "{\"c\""}
	if !errors.Is(got[0].err, broken) || fmt.Sprint(got[0].lines) != fmt.Sprint(want) {
		t.Fatalf("read %q, then %v; want %q, then %v", got[0].lines, got[0].err, want, broken)
	}
	for k, at := range got[0].at {
		if due := p.start.Add(time.Duration(k) * 100 * time.Millisecond); !at.Equal(due) {
			t.Errorf("line %d at +%v, want +%v", k, at.Sub(p.start), due.Sub(p.start))
		}
	}
}

// TestPacedRoundAgainstFakeOllama runs a paced round through the tap and
// the real embedded server against an NDJSON fake, on the real clock:
// every token of every stream is paired with its reply's line (the seeds
// tell the replies apart), no line leaves the tap before its time, and
// every token reaches the client after the tap released it.
func TestPacedRoundAgainstFakeOllama(t *testing.T) {
	words := []string{" two", " three", " four", " five"}
	e, tp := tappedServer(t, words)
	c := DefaultConfig()
	c.Model, c.PacedStreams, c.PacedTokens, c.PacedRate = "m", 3, len(words), 100
	p := newPacing(server.RealClock{}, c.PacedStreams, c.PacedRate)
	timings, err := pacedRound(t.Context(), e, tp, c, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(timings) != c.PacedStreams*len(words) {
		t.Fatalf("%d tokens measured, want %d", len(timings), c.PacedStreams*len(words))
	}
	// The fake wrote its words 5 ms apart, before the start: held, word k
	// of a stream leaves the tap no sooner than k × 10 ms after it.
	for i, tt := range timings {
		k := i % len(words)
		if earliest := p.start.Add(time.Duration(k) * 10 * time.Millisecond); tt.tap.Before(earliest) {
			t.Errorf("stream %d token %d released at +%v, before +%v", i/len(words), k, tt.tap.Sub(p.start), earliest.Sub(p.start))
		}
		if !tt.client.After(tt.tap) {
			t.Errorf("stream %d token %d at the client %v before its release", i/len(words), k, tt.tap.Sub(tt.client))
		}
	}
	if len(tp.take()) != 0 {
		t.Error("the round left replies in the tap")
	}
}
