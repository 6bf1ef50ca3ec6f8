package server_test

import (
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
	srv, cl := start(t, server.Config{})
	off := wire.ThinkOff
	run := startRun(t, cl, wire.RunRequest{Prompt: "hi", Streams: []wire.StreamSpec{
		{Model: wire.DemoThink}, {Model: wire.DemoThink, Options: &wire.Options{Think: &off}}}})
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
	st := think[len(think)-1].Stats
	if st.ThinkingTokens != 19 || st.Tokens != 7 || !(st.ThinkingTTFTMs > 0 && st.ThinkingTTFTMs < st.TTFTMs) ||
		!(st.ThinkingMs >= 2000) || st.ThinkingMs > st.TTFTMs {
		t.Errorf("stats %+v", st)
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
	again := collect(t, cl, re.Streams[0].ID)
	if thinkingOf(again) != reasoning || textOf(again) != answer {
		t.Errorf("replay: reasoning %q, answer %q", thinkingOf(again), textOf(again))
	}
	_ = srv
}
