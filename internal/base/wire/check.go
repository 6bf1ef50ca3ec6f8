package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// TranscriptError says where a transcript breaks the contract, in words a
// person can act on: which stream (by its position and model) and which
// event.
type TranscriptError struct {
	// Stream is the position of the stream in the transcript, or -1 when
	// the fault is in the transcript itself.
	Stream int
	// Model is the stream's model, when Stream >= 0.
	Model string
	// Event is the position of the event in its stream, or -1 when the
	// fault is in the stream itself.
	Event int
	// Problem says what is wrong.
	Problem string
}

// Error names the stream and the event, then the problem, e.g.
// `stream 2 (demo/hello), event 3: id is 4, want 3`.
func (e *TranscriptError) Error() string {
	var b strings.Builder
	if e.Stream >= 0 {
		fmt.Fprintf(&b, "stream %d", e.Stream)
		if e.Model != "" {
			fmt.Fprintf(&b, " (%s)", e.Model)
		}
		if e.Event >= 0 {
			fmt.Fprintf(&b, ", event %d", e.Event)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Problem)
	return b.String()
}

var (
	knownPhases  = map[string]bool{PhaseQueued: true, PhaseWaiting: true, PhaseLoading: true, PhasePrompt: true, PhaseThinking: true, PhaseGenerating: true}
	knownReasons = map[string]bool{ReasonStop: true, ReasonLength: true, ReasonCancelled: true}
)

// CheckTranscript checks that t keeps the promises of the contract
// (docs/protocol.md), so that it can be shown, measured and played back
// event for event, and returns each stream's decoded events. The checks:
// a mode of "async" or "sync"; at least one stream; stream i has index i;
// its events have ids 0, 1, 2, ...; each has a known type and data that
// decodes as EventData (one JSON object without unknown fields) with seq
// equal to its id; t_ms is a number from 0 that never goes back; phases
// are known and never repeat the current one (the server drops repeats);
// tokens and thinking have text (the server drops empty ones); done has a known reason;
// error has a message; exactly one done or error, and it is the last
// event, its stats' phases (if any) in order within the stream's time;
// and the stream's text is its tokens joined, its thinking its
// thinking events joined. The error is a
// *TranscriptError.
func CheckTranscript(t *Transcript) ([][]EventData, error) {
	if t == nil {
		return nil, &TranscriptError{Stream: -1, Event: -1, Problem: "no transcript"}
	}
	switch t.Mode {
	case ModeAsync, ModeSync:
	default:
		return nil, &TranscriptError{Stream: -1, Event: -1, Problem: fmt.Sprintf("unknown mode %q (want %q or %q)", t.Mode, ModeAsync, ModeSync)}
	}
	if len(t.Streams) == 0 {
		return nil, &TranscriptError{Stream: -1, Event: -1, Problem: "the run has no streams"}
	}
	out := make([][]EventData, len(t.Streams))
	for i := range t.Streams {
		evs, err := checkStream(&t.Streams[i], i)
		if err != nil {
			return nil, err
		}
		out[i] = evs
	}
	return out, nil
}

// checkStream checks and decodes the events of the stream at position i.
func checkStream(st *StreamTranscript, i int) ([]EventData, error) {
	fail := func(event int, format string, args ...any) error {
		return &TranscriptError{Stream: i, Model: st.Model, Event: event, Problem: fmt.Sprintf(format, args...)}
	}
	if st.Index != i {
		return nil, fail(-1, "index is %d, want %d (streams are listed in the order of their index)", st.Index, i)
	}
	if len(st.Events) == 0 {
		return nil, fail(-1, "no events; a stream ends with a done or error event")
	}
	out := make([]EventData, len(st.Events))
	var text, thinking strings.Builder
	phase := ""
	prevMs := 0.0
	for j, e := range st.Events {
		if e.ID != int64(j) {
			return nil, fail(j, "id is %d, want %d (ids count from 0 without gaps)", e.ID, j)
		}
		switch e.Event {
		case EventPhase, EventThinking, EventToken, EventDone, EventError:
		default:
			return nil, fail(j, "unknown event type %q (want phase, thinking, token, done or error)", e.Event)
		}
		d, err := decodeData(e.Data)
		if err != nil {
			return nil, fail(j, "data of the %s event is not the contract's JSON: %v", e.Event, err)
		}
		if d.Seq != e.ID {
			return nil, fail(j, "data has seq %d, but the event's id is %d", d.Seq, e.ID)
		}
		if math.IsNaN(d.TMs) || math.IsInf(d.TMs, 0) || d.TMs < 0 {
			return nil, fail(j, "t_ms is %v, want a time in milliseconds from 0", d.TMs)
		}
		if d.TMs < prevMs {
			return nil, fail(j, "t_ms %v goes back from %v at the event before", d.TMs, prevMs)
		}
		prevMs = d.TMs
		terminal := e.Event == EventDone || e.Event == EventError
		last := j == len(st.Events)-1
		switch {
		case terminal && !last:
			return nil, fail(j, "%s event before the end of the stream; a stream has exactly one done or error event, its last", e.Event)
		case !terminal && last:
			return nil, fail(j, "the stream ends without a done or error event (was the run still going when it was saved?)")
		}
		switch e.Event {
		case EventPhase:
			switch {
			case !knownPhases[d.Phase]:
				return nil, fail(j, "unknown phase %q", d.Phase)
			case d.Phase == phase:
				return nil, fail(j, "phase %q repeats the current phase", d.Phase)
			}
			phase = d.Phase
		case EventToken:
			if d.Text == "" {
				return nil, fail(j, "token event without text")
			}
			text.WriteString(d.Text)
		case EventThinking:
			if d.Text == "" {
				return nil, fail(j, "thinking event without text")
			}
			thinking.WriteString(d.Text)
		case EventDone:
			if !knownReasons[d.Reason] {
				return nil, fail(j, "unknown reason %q (want stop, length or cancelled)", d.Reason)
			}
		case EventError:
			if d.Message == "" {
				return nil, fail(j, "error event without a message")
			}
		}
		if terminal && d.Stats != nil {
			if problem := checkPhases(d.Stats.Phases, d.TMs); problem != "" {
				return nil, fail(j, "stats: %s", problem)
			}
		}
		out[j] = d
	}
	if text.String() != st.Text {
		return nil, fail(-1, "its text is not its tokens joined (%d bytes of text, %d bytes of tokens)", len(st.Text), text.Len())
	}
	if thinking.String() != st.Thinking {
		return nil, fail(-1, "its thinking is not its thinking events joined (%d bytes of thinking, %d bytes of events)", len(st.Thinking), thinking.Len())
	}
	return out, nil
}

// checkPhases checks a stream's phases as its stats give them: known
// phases, in order, none overlapping, each from 0 to the stream's end at
// endMs; "" when they hold.
func checkPhases(phases []PhaseSpan, endMs float64) string {
	prev := 0.0
	for k, p := range phases {
		switch {
		case !knownPhases[p.Phase]:
			return fmt.Sprintf("phase %d: unknown phase %q", k, p.Phase)
		case !(p.StartMs >= prev && p.EndMs >= p.StartMs && p.EndMs <= endMs):
			return fmt.Sprintf("phase %d (%s) from %v to %v ms: phases follow one another from 0 to the stream's end at %v ms", k, p.Phase, p.StartMs, p.EndMs, endMs)
		}
		prev = p.EndMs
	}
	return ""
}

// decodeData decodes one event's data: exactly one JSON object of known
// fields.
func decodeData(raw json.RawMessage) (EventData, error) {
	var d EventData
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return d, errors.New("no data")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return d, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return d, errors.New("more than one JSON value")
	}
	return d, nil
}
