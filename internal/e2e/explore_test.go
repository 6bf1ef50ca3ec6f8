package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/ollamatest"
	"github.com/tokenloom/tokenloom/server"
)

func ip(n int) *int { return &n }

func TestExplore(t *testing.T) {
	o := ollamatest.Start(t)
	srv, _ := server.New(server.Config{OllamaURL: o.URL()})
	srv.Start("")
	defer srv.Close()
	cl, _ := client.New(srv.URL())
	defer cl.Close()
	ctx := context.Background()
	for _, c := range []struct {
		p    string
		opts *client.Options
	}{{"The", nil}, {"The", nil}, {"one", &client.Options{NumPredict: ip(30)}}, {"one", &client.Options{NumPredict: ip(2000)}}, {"one", &client.Options{NumPredict: ip(100000)}}, {"one", &client.Options{NumPredict: ip(100000), NumCtx: ip(2048)}}, {"one", &client.Options{NumPredict: ip(100000), NumCtx: ip(4096)}}} {
		start := time.Now()
		rc, err := cl.StartRun(ctx, client.RunRequest{Prompt: c.p, Streams: []client.StreamSpec{{Model: o.Model(), Options: c.opts}}})
		if err != nil {
			t.Fatal(err)
		}
		ch, err := cl.Subscribe(ctx, rc.Streams[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		var last client.Event
		var phases []string
		for ev := range ch {
			if ev.Type == "token" {
				n++
			}
			if ev.Type == "phase" {
				phases = append(phases, ev.Phase)
			}
			last = ev
		}
		tr, _ := cl.Run(ctx, rc.ID)
		t.Logf("%s %+v: %d tokens, phases %v, last %s %s %s, wall %v, stats %+v ollama %+v finished-after=%v", c.p, c.opts, n, phases, last.Type, last.Reason, last.Message, time.Since(start), last.Stats, last.Stats.Ollama, tr.Finished)
		if st := last.Stats; st != nil && st.Ollama != nil && st.Ollama.EvalDurationNs > 0 {
			t.Logf("  ours %.0f tok/s, ollama %.0f tok/s", st.TokensPerS, float64(st.Ollama.EvalCount)/float64(st.Ollama.EvalDurationNs)*1e9)
		}
	}
}
