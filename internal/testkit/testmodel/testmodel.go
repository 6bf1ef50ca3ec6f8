// Package testmodel writes a tiny, deterministic GGUF model and its Modelfile
// so that end-to-end tests can run a real Ollama server without downloading
// any model.
//
// The model is a one-block llama whose attention and feed-forward weights are
// all zero, so the residual stream carries the token embedding unchanged to
// the output layer. Token embeddings are one-hot and the output matrix maps
// each "chain" token to its successor, which makes greedy decoding depend on
// the last token only:
//
//   - a prompt ending in "The" is answered with FoxSentence and then EOS
//     (done_reason "stop");
//   - a prompt ending in "one" is answered with " two three ... ten one two ..."
//     forever (see Counting), until num_predict ends it (done_reason "length");
//   - a prompt ending in another chain word continues that chain ("the" gives
//     " lazy dog.", "five" gives " six seven ...", and "." ends at once with an
//     empty reply);
//   - a prompt ending in "Why" is answered with "<think>", the reasoning
//     ThinkingText, "</think>" and the answer ThinkingAnswer, then EOS: with
//     ThinkingModelfile and think true, Ollama (0.9 and later) streams the
//     reasoning as thinking and the answer as content;
//   - a prompt ending in anything else is answered with DefaultReply.
package testmodel

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Name is the model name the tests use with `ollama create`.
const Name = "tokenloom-tiny"

// GGUFFileName is the file name Write gives the model weights; Modelfile
// refers to it.
const GGUFFileName = "tiny.gguf"

// ModelfileName is the file name Write gives the Modelfile.
const ModelfileName = "Modelfile"

// Modelfile is the text of the Modelfile that Write stores next to the model.
// The template joins the messages' contents, each preceded by a space, so the
// last word of the last message decides the reply.
const Modelfile = `FROM ./` + GGUFFileName + `
TEMPLATE """{{- range .Messages }} {{ .Content }}{{ end }}"""
PARAMETER temperature 0
PARAMETER num_ctx 256
PARAMETER num_thread 1
`

// ThinkingName is the model name the tests give the tiny model created
// with ThinkingModelfile: the same weights, with the thinking capability.
const ThinkingName = "tokenloom-thinker"

// ThinkingModelfile is the Modelfile of the thinking variant. Its template
// shows a message's thinking between <think> and </think> inside the range
// over the messages, from which Ollama infers both the capability and the
// tags that separate the reasoning from the answer.
const ThinkingModelfile = `FROM ./` + GGUFFileName + "\n" + ThinkingTemplate + `
PARAMETER temperature 0
PARAMETER num_ctx 256
PARAMETER num_thread 1
`

// ThinkingTemplate is the TEMPLATE line of ThinkingModelfile: with
// "FROM tokenloom-tiny" before it, it makes the thinking variant of a tiny
// model that is already created.
const ThinkingTemplate = `TEMPLATE """{{- range .Messages }}{{ if .Thinking }}<think>{{ .Thinking }}</think>{{ end }} {{ .Content }}{{ end }}"""`

// ThinkingPrompt ends in the word that makes the model think first.
const ThinkingPrompt = "Why"

// ThinkingText and ThinkingAnswer are what Ollama makes of the reply to
// ThinkingPrompt when thinking is on: the text between the tags and the
// text after them, each without the white space Ollama trims at its start.
// ThinkingRaw is the reply as the model writes it, which is what Ollama
// sends as content when thinking is off.
const (
	ThinkingText   = "Hamlet asks whether to live"
	ThinkingAnswer = "To be."
	ThinkingRaw    = "<think> Hamlet asks whether to live</think> To be."
)

// ThinkingTokens and ThinkingAnswerTokens are how many tokens each part
// takes: the thinking chunks Ollama streams, and the content chunks.
const (
	ThinkingTokens       = 5
	ThinkingAnswerTokens = 3
)

// FoxSentence is the reply to a prompt whose last word is "The". The model
// stops (EOS) after the final ".".
const FoxSentence = " quick brown fox jumps over the lazy dog."

// DefaultReply is the reply to a prompt whose last token is not a word of the
// fox sentence or of the counting cycle, for example "Hello" or "?".
const DefaultReply = " The" + FoxSentence

// foxWords is the fox chain: each word is followed by the next one, the last
// by ".", and "." by EOS.
var foxWords = []string{"The", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"}

// countWords is the counting cycle: each word is followed by the next one and
// the last by the first.
var countWords = []string{"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"}

// thinkWords are the thinking chain after its trigger "Why": the tags are
// written without a space before them; the last word is followed by the
// fox sentence's ".", and that by EOS.
var thinkWords = []string{"<think>", "Hamlet", "asks", "whether", "to", "live", "</think>", "To", "be"}

// Counting returns the text of the first n tokens the model generates for a
// prompt whose last word is "one": " two three four ... ten one two ...".
// Counting(0) is "".
func Counting(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(" ")
		b.WriteString(countWords[(i+1)%len(countWords)])
	}
	return b.String()
}

// Write writes GGUFFileName and ModelfileName into dir, which must exist, and
// returns their paths.
func Write(dir string) (ggufPath, modelfilePath string, err error) {
	ggufPath = filepath.Join(dir, GGUFFileName)
	modelfilePath = filepath.Join(dir, ModelfileName)
	if err := writeFile(ggufPath, WriteGGUF); err != nil {
		return "", "", err
	}
	err = writeFile(modelfilePath, func(w io.Writer) error {
		_, err := io.WriteString(w, Modelfile)
		return err
	})
	if err != nil {
		return "", "", err
	}
	return ggufPath, modelfilePath, nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	if err := write(bw); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// Model dimensions.
const (
	embeddingLength   = 64
	feedForwardLength = 128
	headCount         = 4
	contextLength     = 2048
	alignment         = 32

	// logitWeight is the output weight that links a token to its
	// successor. After the final RMS norm a one-hot hidden state has the
	// value sqrt(embeddingLength) = 8 in its dimension, so the successor's
	// logit is 32 and every other logit is 0.
	logitWeight = 4.0
)

// SentencePiece token types, as in llama.cpp.
const (
	tokenNormal  = 1
	tokenUnknown = 2
	tokenControl = 3
	tokenByte    = 6
)

const (
	unkID = 0
	bosID = 1
	eosID = 2
)

// vocab is the tokenizer vocabulary together with the model's transition
// table.
type vocab struct {
	tokens []string
	scores []float32
	types  []int32
	// dim is the embedding dimension of each token: the chain tokens have
	// their own dimensions 1, 2, ...; all other tokens share dimension 0.
	dim []int
	// next is the successor of each chain token, by token ID.
	next map[int]int
	// defaultNext is the successor of all the tokens in dimension 0.
	defaultNext int
}

// buildVocab returns the vocabulary: <unk>, <s>, </s>, the 256 byte tokens,
// "▁", then every "▁"-prefix of every word (llama.cpp's SentencePiece
// tokenizer only builds a piece by merging pairs whose result is in the
// vocabulary) ending with the words themselves, and ".". Longer pieces score
// higher so that whole words win.
func buildVocab() *vocab {
	v := &vocab{next: make(map[int]int)}
	ids := make(map[string]int)
	add := func(text string, typ int32, score float32) int {
		if id, ok := ids[text]; ok {
			return id
		}
		id := len(v.tokens)
		ids[text] = id
		v.tokens = append(v.tokens, text)
		v.scores = append(v.scores, score)
		v.types = append(v.types, typ)
		v.dim = append(v.dim, 0)
		return id
	}
	add("<unk>", tokenUnknown, 0)
	add("<s>", tokenControl, 0)
	add("</s>", tokenControl, 0)
	for b := range 256 {
		add(fmt.Sprintf("<0x%02X>", b), tokenByte, 0)
	}
	piece := func(text string) int {
		return add(text, tokenNormal, float32(len([]rune(text))))
	}
	piece("▁")
	word := func(w string) int {
		for i := 1; i < len(w); i++ {
			piece("▁" + w[:i])
		}
		return piece("▁" + w)
	}

	chain := func(ids []int) {
		for i, id := range ids {
			v.dim[id] = len(v.next) + 1
			v.next[id] = ids[(i+1)%len(ids)]
		}
	}
	var fox []int
	for _, w := range foxWords {
		fox = append(fox, word(w))
	}
	fox = append(fox, piece("."))
	var count []int
	for _, w := range countWords {
		count = append(count, word(w))
	}
	think := []int{word("Why")}
	for _, w := range thinkWords {
		if strings.HasPrefix(w, "<") {
			for i := 1; i < len(w); i++ {
				piece(w[:i]) // so that the tags can be tokenized too
			}
			think = append(think, piece(w))
		} else {
			think = append(think, word(w))
		}
	}
	chain(fox)
	chain(count)
	chain(think)
	// "." ends the fox sentence instead of starting it again, and the
	// thinking reply too.
	v.next[fox[len(fox)-1]] = eosID
	v.next[think[len(think)-1]] = fox[len(fox)-1]
	v.defaultNext = fox[0]
	return v
}

// tensor is one F32 tensor; ne holds its dimensions in ggml order (ne[0]
// varies fastest).
type tensor struct {
	name string
	ne   []uint64
	data []float32
}

func zeros(ne ...uint64) []float32 {
	n := uint64(1)
	for _, d := range ne {
		n *= d
	}
	return make([]float32, n)
}

func ones(n uint64) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 1
	}
	return s
}

func (v *vocab) tensors() []tensor {
	const e, f = embeddingLength, feedForwardLength
	n := uint64(len(v.tokens))

	embd := zeros(e, n)
	for id, d := range v.dim {
		embd[id*e+d] = 1
	}
	output := zeros(e, n)
	for id, d := range v.dim {
		if next, ok := v.next[id]; ok {
			output[next*e+d] = logitWeight
		}
	}
	// Dimension 0, shared by every token outside the chains, leads to "▁The".
	output[v.defaultNext*e+0] = logitWeight

	return []tensor{
		{"token_embd.weight", []uint64{e, n}, embd},
		{"output_norm.weight", []uint64{e}, ones(e)},
		{"output.weight", []uint64{e, n}, output},
		{"blk.0.attn_norm.weight", []uint64{e}, ones(e)},
		{"blk.0.attn_q.weight", []uint64{e, e}, zeros(e, e)},
		{"blk.0.attn_k.weight", []uint64{e, e}, zeros(e, e)},
		{"blk.0.attn_v.weight", []uint64{e, e}, zeros(e, e)},
		{"blk.0.attn_output.weight", []uint64{e, e}, zeros(e, e)},
		{"blk.0.ffn_norm.weight", []uint64{e}, ones(e)},
		{"blk.0.ffn_gate.weight", []uint64{e, f}, zeros(e, f)},
		{"blk.0.ffn_up.weight", []uint64{e, f}, zeros(e, f)},
		{"blk.0.ffn_down.weight", []uint64{f, e}, zeros(f, e)},
	}
}
