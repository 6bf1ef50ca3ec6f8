package server_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/server"
)

func thinkingOf(evs []client.Event) string {
	var b strings.Builder
	for _, e := range evs {
		if e.Type == wire.EventThinking {
			b.WriteString(e.Text)
		}
	}
	return b.String()
}

// TestDemoThink: demo/think reasons, then answers, in thinking and token
// events with their phases and figures; with think off it answers at once.
// The transcript keeps the reasoning apart, and a replay plays it back.
func TestDemoThink(t *testing.T) {
	srv, clock, cl := startFake(t, server.Config{})
	off := wire.ThinkOff
	run := startRun(t, cl, wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{
		{Model: wire.DemoThink}, {Model: wire.DemoThink, Options: &wire.Options{Think: &off}}}})
	playOut(t, srv, clock)
	think := collect(t, cl, run.Streams[0].ID)
	plain := collect(t, cl, run.Streams[1].ID)
	const reasoning, answer = "The user says hi. A greeting back, short and friendly, then an offer to help.", "Hello! How can I help?"
	if thinkingOf(think) != reasoning || textOf(think) != answer {
		t.Errorf("demo/think: reasoning %q, answer %q", thinkingOf(think), textOf(think))
	}
	var phases []string
	for _, e := range think {
		if e.Type == wire.EventPhase {
			phases = append(phases, e.Phase)
		}
	}
	if strings.Join(phases, ",") != "thinking,generating" {
		t.Errorf("phases %v", phases)
	}
	// On the fake clock the script's times are exact: 26 tokens over 3 s,
	// the answer from the 20th; think off, 7 tokens over 1 s.
	st := think[len(think)-1].Stats
	wantPhases := []wire.PhaseSpan{{Phase: wire.PhaseThinking, StartMs: 0, EndMs: 2307.692}, {Phase: wire.PhaseGenerating, StartMs: 2307.692, EndMs: 3000}}
	if st.ThinkingTokens != 19 || st.Tokens != 7 || st.ThinkingTTFTMs != 115.384 || st.TTFTMs != 2307.692 ||
		st.ThinkingMs != 2192.308 || st.DurationMs != 3000 || !slices.Equal(st.Phases, wantPhases) {
		t.Errorf("stats %+v", st)
	}
	if st := plain[len(plain)-1].Stats; st.TTFTMs != 142.857 || st.DurationMs != 1000 || st.ThinkingTokens != 0 {
		t.Errorf("think off: stats %+v", st)
	}
	if thinkingOf(plain) != "" || textOf(plain) != answer {
		t.Errorf("think off: reasoning %q, answer %q", thinkingOf(plain), textOf(plain))
	}
	tr := transcriptOf(t, cl, run)
	if tr.Streams[0].Thinking != reasoning || tr.Streams[0].Text != answer || tr.Streams[1].Thinking != "" {
		t.Errorf("transcript: thinking %q text %q", tr.Streams[0].Thinking, tr.Streams[0].Text)
	}
	if _, err := wire.CheckTranscript(tr); err != nil {
		t.Errorf("transcript: %v", err)
	}
	models, err := cl.Models(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range models.Models {
		if m.Thinks() != (m.Name == wire.DemoThink) {
			t.Errorf("%s: capabilities %v", m.Name, m.Capabilities)
		}
	}
	// A replay plays the reasoning back as reasoning.
	re, err := cl.StartReplay(t.Context(), tr, 16)
	if err != nil {
		t.Fatal(err)
	}
	playOut(t, srv, clock)
	again := collect(t, cl, re.Streams[0].ID)
	if thinkingOf(again) != reasoning || textOf(again) != answer {
		t.Errorf("replay: reasoning %q, answer %q", thinkingOf(again), textOf(again))
	}
}
