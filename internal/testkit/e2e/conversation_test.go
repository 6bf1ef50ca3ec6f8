package e2e

import (
	"slices"
	"testing"

	"github.com/tokenloom/tokenloom/internal/base/endpoints"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/testkit/ollamatest"
)

// TestFollowUpOwnAnswer holds a two-turn conversation with three streams
// of the real Ollama behind a tap, two through its own API and one through
// its OpenAI-compatible one, each stopped after a different number of
// tokens so that their first answers differ. The second turn's request of
// each stream carries the conversation with that stream's own first
// answer, and no other; Ollama's prompt eval counts grow by the answers'
// lengths.
func TestFollowUpOwnAnswer(t *testing.T) {
	o := ollamatest.Start(t)
	tap := startChatTap(t, o.URL())
	native, err := endpoints.Parse("native=ollama:" + tap.URL)
	if err != nil {
		t.Fatal(err)
	}
	compat, err := endpoints.Parse("compat=openai:" + tap.URL + "/v1")
	if err != nil {
		t.Fatal(err)
	}
	_, cl := newEndpointStack(t, native, compat)
	ctx := testContext(t)

	asked := []int{3, 6, 2} // tokens asked of each stream: its key at the tap
	specs := []wire.StreamSpec{
		{Model: o.Model(), Endpoint: "native", Options: &wire.Options{NumPredict: intp(asked[0])}},
		{Model: o.Model(), Endpoint: "native", Options: &wire.Options{NumPredict: intp(asked[1])}},
		{Model: o.Model(), Endpoint: "compat", Options: &wire.Options{NumPredict: intp(asked[2]), Temperature: floatp(0)}},
	}
	// The model goes on from the last word of all the messages joined:
	// "The" starts the fox sentence, "one" the counting.
	wantFirst := []string{" quick brown fox", " quick brown fox jumps over the", " quick brown"}
	created, got := runAll(t, ctx, cl, wire.RunRequest{Prompt: "The", Mode: wire.ModeSync, Streams: specs})
	for i := range got {
		checkDone(t, "first turn", got[i], wantFirst[i], wire.ReasonLength)
	}
	tr := finishedTranscript(t, ctx, cl, created.ID)
	tap.take(t)

	for i := range specs {
		specs[i].History = tr.Conversation(i)
	}
	created, got = runAll(t, ctx, cl, wire.RunRequest{Prompt: "one", Mode: wire.ModeSync, Streams: specs})
	wantSecond := []string{" two three four", " two three four five six seven", " two three"}
	for i := range got {
		checkDone(t, "second turn", got[i], wantSecond[i], wire.ReasonLength)
	}
	sent := tap.take(t)
	for i, n := range asked {
		c, ok := sent[n]
		if !ok {
			t.Fatalf("stream %d: no chat request asked for %d tokens; the tap saw %v", i, n, sent)
		}
		var roles, contents []string
		for _, m := range c.Messages {
			roles, contents = append(roles, m.Role), append(contents, m.Content)
		}
		if !slices.Equal(roles, []string{"user", "assistant", "user"}) || !slices.Equal(contents, []string{"The", wantFirst[i], "one"}) {
			t.Errorf("stream %d: sent %q as %q; want its own first answer %q between the prompts", i, contents, roles, wantFirst[i])
		}
	}

	// The template joins the messages, so a stream's second prompt is its
	// first prompt, its own answer and the new line: what its prompt grew
	// by, less its first answer's tokens, is the same for every stream.
	tr2 := finishedTranscript(t, ctx, cl, created.ID)
	prompt := func(tr *wire.Transcript, i int) int {
		if st := tr.Streams[i].Stats; st.Usage != nil {
			return st.Usage.PromptTokens
		}
		return tr.Streams[i].Stats.Ollama.PromptEvalCount
	}
	var grew []int
	for i := range specs {
		grew = append(grew, prompt(tr2, i)-prompt(tr, i)-tr.Streams[i].Stats.Tokens)
		t.Logf("stream %d: prompt of %d tokens, then %d after a first answer of %d", i, prompt(tr, i), prompt(tr2, i), tr.Streams[i].Stats.Tokens)
	}
	if grew[0] <= 0 || slices.ContainsFunc(grew, func(n int) bool { return n != grew[0] }) {
		t.Errorf("second prompts grew by %v tokens beyond the first answers; want the same number, that of the new line, for every stream", grew)
	}
}
