package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/palette"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/commands/cli"
	"github.com/tokenloom/tokenloom/internal/services/export"
	"github.com/tokenloom/tokenloom/internal/testkit/ollamatest"
	"github.com/tokenloom/tokenloom/internal/testkit/testmodel"
)

// TestThinking: the thinking variant of the tiny model, asked to think,
// streams its exact reasoning as thinking events and its exact answer as
// token events, never mixed; asked not to, Ollama sends the model's raw
// text as the answer. The models list says which model thinks.
func TestThinking(t *testing.T) {
	o := ollamatest.Start(t)
	thinker := o.CreateThinker()
	_, cl := newStack(t, o.URL())
	ctx := testContext(t)

	ms, err := cl.Models(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms.Models {
		switch m.Name {
		case thinker + ":latest":
			if !m.Thinks() {
				t.Errorf("%s: capabilities %v, want thinking", m.Name, m.Capabilities)
			}
		case o.Model() + ":latest":
			if m.Thinks() || !slices.Contains(m.Capabilities, "completion") {
				t.Errorf("%s: capabilities %v, want completion only", m.Name, m.Capabilities)
			}
		}
	}

	on, off := wire.ThinkOn, wire.ThinkOff
	created, got := runAll(t, ctx, cl, wire.RunRequest{Prompt: testmodel.ThinkingPrompt, Streams: []wire.StreamSpec{
		{Model: thinker, Options: &wire.Options{Think: &on}},
		{Model: thinker, Options: &wire.Options{Think: &off}},
	}})
	think, plain := got[0], got[1]
	checkDone(t, "thinking", think, testmodel.ThinkingAnswer, wire.ReasonStop)
	if think.thinking() != testmodel.ThinkingText {
		t.Errorf("thinking: reasoning %q, want %q", think.thinking(), testmodel.ThinkingText)
	}
	// The reasoning comes first, then the answer: one phase each.
	var kinds []string
	for _, ev := range think {
		if ev.Type == wire.EventThinking || ev.Type == wire.EventToken {
			if len(kinds) == 0 || kinds[len(kinds)-1] != ev.Type {
				kinds = append(kinds, ev.Type)
			}
		}
	}
	if !slices.Equal(kinds, []string{wire.EventThinking, wire.EventToken}) {
		t.Errorf("thinking: events %v, want the thinking ones, then the tokens", kinds)
	}
	if p := think.phases(); len(p) < 3 || !slices.Equal(p[len(p)-2:], []string{wire.PhaseThinking, wire.PhaseGenerating}) {
		t.Errorf("thinking: phases %v, want thinking then generating at the end", p)
	}
	st := think.last().Stats
	if st.ThinkingTokens != testmodel.ThinkingTokens || st.Tokens != testmodel.ThinkingAnswerTokens ||
		!(st.ThinkingTTFTMs > 0 && st.ThinkingTTFTMs <= st.TTFTMs) || !(st.ThinkingMs >= 0) {
		t.Errorf("thinking: stats %+v", st)
	}
	if st.Ollama == nil || st.Ollama.EvalCount < st.ThinkingTokens+st.Tokens {
		t.Errorf("thinking: Ollama's eval_count %+v, want at least the %d tokens of both", st.Ollama, st.ThinkingTokens+st.Tokens)
	}
	checkDone(t, "not thinking", plain, testmodel.ThinkingRaw, wire.ReasonStop)
	if plain.thinking() != "" {
		t.Errorf("not thinking: reasoning %q, want none", plain.thinking())
	}
	checkTranscript(t, ctx, cl, created, got)
	tr := finishedTranscript(t, ctx, cl, created.ID)
	if tr.Streams[0].Thinking != testmodel.ThinkingText || tr.Streams[0].Text != testmodel.ThinkingAnswer {
		t.Errorf("transcript: thinking %q, text %q", tr.Streams[0].Thinking, tr.Streams[0].Text)
	}

	// Export and open again: the reasoning survives as reasoning, in the
	// JSON and in a replay of it; the report folds it.
	dir := t.TempDir()
	if err := export.Save(filepath.Join(dir, "run.json"), tr); err != nil {
		t.Fatal(err)
	}
	if err := export.Save(filepath.Join(dir, "run.md"), tr); err != nil {
		t.Fatal(err)
	}
	opened, err := export.Load(filepath.Join(dir, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	replayed, err := cl.StartReplay(ctx, opened, 16)
	if err != nil {
		t.Fatal(err)
	}
	var chans []<-chan client.Event
	for _, st := range replayed.Streams {
		ch, err := cl.Subscribe(ctx, st.ID)
		if err != nil {
			t.Fatal(err)
		}
		chans = append(chans, ch)
	}
	again := drainAll(t, ctx, chans)
	if again[0].thinking() != testmodel.ThinkingText || again[0].text() != testmodel.ThinkingAnswer {
		t.Errorf("replay of the export: reasoning %q, answer %q", again[0].thinking(), again[0].text())
	}
	md, _ := os.ReadFile(filepath.Join(dir, "run.md"))
	if !strings.Contains(string(md), "<details><summary>Thought for") || !strings.Contains(string(md), testmodel.ThinkingText) {
		t.Errorf("the report does not fold the reasoning:\n%s", md)
	}

	// tokenloom run on a terminal: the reasoning faint, in the stream's
	// colour, before the answer; --hide-thinking leaves it out.
	for _, hide := range []bool{false, true} {
		var out, errOut bytes.Buffer
		code := cli.Run(ctx, cli.RunOptions{Models: []string{thinker}, Prompt: testmodel.ThinkingPrompt, PromptSet: true,
			Think: &on, HideThinking: hide, Color: true, OllamaURL: o.URL(), Stdout: &out, Stderr: &errOut})
		if code != cli.ExitOK {
			t.Fatalf("tokenloom run: exit %d\n%s", code, errOut.String())
		}
		faint := "\x1b[2m" + palette.Of(0).ANSI(false) + " asks" + palette.ANSIReset
		text := out.String()
		switch {
		case !hide && (!strings.Contains(text, faint) || strings.Index(text, "Hamlet") > strings.Index(text, "To")):
			t.Errorf("tokenloom run: no faint reasoning before the answer in %q", text)
		case hide && strings.Contains(text, "Hamlet"):
			t.Errorf("tokenloom run --hide-thinking printed the reasoning: %q", text)
		case !strings.Contains(text, palette.Of(0).ANSI(false)+" be"):
			t.Errorf("tokenloom run: no answer in %q", text)
		}
	}

	// A level is for the models that take one (gpt-oss): Ollama refuses
	// it here, and the stream says so.
	low := wire.ThinkLow
	_, got = runAll(t, ctx, cl, wire.RunRequest{Prompt: testmodel.ThinkingPrompt, Streams: []wire.StreamSpec{
		{Model: thinker, Options: &wire.Options{Think: &low}}}})
	if l := got[0].last(); l.Type != wire.EventError || !strings.Contains(l.Message, "not supported") {
		t.Errorf("think low: %v", got[0])
	}
}

// TestOneSlotQueues: Ollama from 0.10 on serves one request per model at a
// time. An async run of three streams of the tiny model: the second and
// third wait in the queued phase for their turn, and the run's summary
// says why.
func TestOneSlotQueues(t *testing.T) {
	o := ollamatest.Start(t) // Ollama's default: one slot
	_, cl := newStack(t, o.URL())
	ctx := testContext(t)
	// Load the model first, so that no stream waits in "loading".
	runAll(t, ctx, cl, wire.RunRequest{Prompt: "The", Streams: []wire.StreamSpec{{Model: o.Model()}}})

	// Long enough that a queued stream waits well beyond the margin
	// after which it counts as queued, even on a fast machine.
	const n = 2500
	var specs []wire.StreamSpec
	for range 3 {
		specs = append(specs, wire.StreamSpec{Model: o.Model(), Options: counting(n, 0)})
	}
	_, got := runAll(t, ctx, cl, wire.RunRequest{Prompt: "one", Mode: wire.ModeAsync, Streams: specs})
	var outcomes []figures.Outcome
	queued := 0
	for i, evs := range got {
		checkDone(t, "stream", evs, testmodel.Counting(n), wire.ReasonLength)
		if slices.Contains(evs.phases(), wire.PhaseQueued) {
			queued++
			// Queued comes before the tokens and ends with them.
			p := evs.phases()
			if p[len(p)-1] != wire.PhaseGenerating || p[len(p)-2] != wire.PhaseQueued {
				t.Errorf("stream %d: phases %v, want queued right before generating", i, p)
			}
		}
		outcomes = append(outcomes, evs.outcome(o.Model()))
	}
	if queued != 2 {
		for i, evs := range got {
			t.Logf("stream %d: phases %v, first token at %.1f ms, end at %.1f ms", i, evs.phases(), evs.tokens()[0].TMs, evs.last().TMs)
		}
		t.Errorf("%d streams queued, want the 2 that waited for their turn", queued)
	}
	// The summary names the cause. (Whether the lanes' stamps overlap by a
	// hair is not asserted: at 10,000 tokens/s the client reading the
	// first stream's burst may stamp its last tokens after the next
	// stream's first one arrived.)
	rt := figures.RunTimeOf(outcomes)
	if c := rt.Caveat(wire.ModeAsync); rt.Queued != 2 || !strings.Contains(c, "OLLAMA_NUM_PARALLEL") {
		t.Errorf("run time %+v: caveat %q, want one naming OLLAMA_NUM_PARALLEL", rt, c)
	}
}

// TestOldOllama: the oldest Ollama supported (0.6.5, with four slots per
// model and no thinking) still streams exact texts, with its metrics; a
// think option it does not know is ignored, and the model answers as it
// would.
func TestOldOllama(t *testing.T) {
	o := ollamatest.Start(t, ollamatest.WithVersion(ollamatest.CompatVersion))
	_, cl := newStack(t, o.URL())
	ctx := testContext(t)
	on := wire.ThinkOn
	created, got := runAll(t, ctx, cl, wire.RunRequest{Prompt: "The", Streams: []wire.StreamSpec{
		{Model: o.Model()},
		{Model: o.Model(), Options: &wire.Options{Think: &on}},
	}})
	for i, evs := range got {
		checkDone(t, "stream", evs, testmodel.FoxSentence, wire.ReasonStop)
		if st := evs.last().Stats; st.Ollama == nil || st.Ollama.EvalCount < st.Tokens {
			t.Errorf("stream %d: Ollama's metrics %+v", i, st.Ollama)
		}
		if evs.thinking() != "" || slices.Contains(evs.phases(), wire.PhaseQueued) {
			t.Errorf("stream %d: %v", i, evs)
		}
	}
	checkTranscript(t, ctx, cl, created, got)
}
