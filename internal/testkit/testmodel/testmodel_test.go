package testmodel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// ggufFile is a GGUF file as read back by readGGUF.
type ggufFile struct {
	version   uint32
	kvs       []keyValue
	tensors   []tensorInfo
	dataStart int // offset of the tensor data section
	raw       []byte
}

type tensorInfo struct {
	name   string
	ne     []uint64
	typ    uint32
	offset uint64 // relative to dataStart
}

func (f *ggufFile) value(key string) any {
	for _, kv := range f.kvs {
		if kv.key == key {
			return kv.value
		}
	}
	return nil
}

// floats returns the data of the named F32 tensor.
func (f *ggufFile) floats(t *testing.T, name string) []float32 {
	t.Helper()
	for _, ti := range f.tensors {
		if ti.name != name {
			continue
		}
		n := uint64(1)
		for _, d := range ti.ne {
			n *= d
		}
		start := uint64(f.dataStart) + ti.offset
		if ti.typ != ggmlTypeF32 || start+4*n > uint64(len(f.raw)) {
			t.Fatalf("tensor %s: type %d, data [%d, %d) outside the file of %d bytes",
				name, ti.typ, start, start+4*n, len(f.raw))
		}
		out := make([]float32, n)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(f.raw[start+4*uint64(i):]))
		}
		return out
	}
	t.Fatalf("no tensor %s", name)
	return nil
}

// decoder reads little-endian GGUF values; the first error sticks.
type decoder struct {
	b   []byte
	pos int
	err error
}

func (d *decoder) next(n int) []byte {
	if d.err != nil {
		return make([]byte, n)
	}
	if n < 0 || d.pos+n > len(d.b) {
		d.err = fmt.Errorf("read %d bytes at offset %d: past the end (%d)", n, d.pos, len(d.b))
		return make([]byte, max(n, 0))
	}
	p := d.b[d.pos : d.pos+n]
	d.pos += n
	return p
}

func (d *decoder) u32() uint32 { return binary.LittleEndian.Uint32(d.next(4)) }
func (d *decoder) u64() uint64 { return binary.LittleEndian.Uint64(d.next(8)) }

func (d *decoder) count() int {
	n := d.u64()
	if n > uint64(len(d.b)) {
		d.err = firstErr(d.err, fmt.Errorf("count %d at offset %d is larger than the file", n, d.pos-8))
		return 0
	}
	return int(n)
}

func firstErr(old, next error) error {
	if old != nil {
		return old
	}
	return next
}

func (d *decoder) str() string { return string(d.next(d.count())) }

func (d *decoder) value(typ uint32) any {
	switch typ {
	case 0:
		return d.next(1)[0]
	case 1:
		return int8(d.next(1)[0])
	case 2:
		return binary.LittleEndian.Uint16(d.next(2))
	case 3:
		return int16(binary.LittleEndian.Uint16(d.next(2)))
	case ggufUint32:
		return d.u32()
	case ggufInt32:
		return int32(d.u32())
	case ggufFloat32:
		return math.Float32frombits(d.u32())
	case ggufBool:
		b := d.next(1)[0]
		if b > 1 {
			d.err = firstErr(d.err, fmt.Errorf("bool value %d", b))
		}
		return b == 1
	case ggufString:
		return d.str()
	case ggufArray:
		elem := d.u32()
		n := d.count()
		switch elem {
		case ggufString:
			s := make([]string, n)
			for i := range s {
				s[i] = d.str()
			}
			return s
		case ggufFloat32:
			s := make([]float32, n)
			for i := range s {
				s[i] = math.Float32frombits(d.u32())
			}
			return s
		case ggufInt32:
			s := make([]int32, n)
			for i := range s {
				s[i] = int32(d.u32())
			}
			return s
		}
		d.err = firstErr(d.err, fmt.Errorf("unsupported array element type %d", elem))
	case 10:
		return d.u64()
	case 11:
		return int64(d.u64())
	case 12:
		return math.Float64frombits(d.u64())
	default:
		d.err = firstErr(d.err, fmt.Errorf("unknown value type %d", typ))
	}
	return nil
}

// readGGUF parses a GGUF v2/v3 file.
func readGGUF(b []byte) (*ggufFile, error) {
	d := &decoder{b: b}
	if magic := d.u32(); magic != ggufMagic {
		return nil, fmt.Errorf("magic %#x, want %#x", magic, ggufMagic)
	}
	f := &ggufFile{version: d.u32(), raw: b}
	nTensors, nKVs := d.count(), d.count()
	for range nKVs {
		key := d.str()
		f.kvs = append(f.kvs, keyValue{key, d.value(d.u32())})
		if d.err != nil {
			return nil, fmt.Errorf("key %q: %w", key, d.err)
		}
	}
	align := 32
	if a, ok := f.value("general.alignment").(uint32); ok {
		align = int(a)
	}
	for range nTensors {
		ti := tensorInfo{name: d.str()}
		nDims := d.u32()
		if nDims > 4 {
			return nil, fmt.Errorf("tensor %q has %d dimensions", ti.name, nDims)
		}
		for range nDims {
			ti.ne = append(ti.ne, d.u64())
		}
		ti.typ = d.u32()
		ti.offset = d.u64()
		f.tensors = append(f.tensors, ti)
	}
	if d.err != nil {
		return nil, d.err
	}
	f.dataStart = (d.pos + align - 1) / align * align
	if f.dataStart > len(b) {
		return nil, errors.New("no data section")
	}
	if pad := b[d.pos:f.dataStart]; bytes.Count(pad, []byte{0}) != len(pad) {
		return nil, fmt.Errorf("non-zero padding before the data at %d", d.pos)
	}
	return f, nil
}

func writeGGUF(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteGGUF(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestWriteIsDeterministic(t *testing.T) {
	a, b := writeGGUF(t), writeGGUF(t)
	if !bytes.Equal(a, b) {
		t.Fatal("two calls of WriteGGUF wrote different bytes")
	}
	for range 2 {
		dir := t.TempDir()
		ggufPath, modelfilePath, err := Write(dir)
		if err != nil {
			t.Fatal(err)
		}
		if ggufPath != filepath.Join(dir, "tiny.gguf") || modelfilePath != filepath.Join(dir, "Modelfile") {
			t.Errorf("Write(%q) = %q, %q", dir, ggufPath, modelfilePath)
		}
		if got, err := os.ReadFile(ggufPath); err != nil || !bytes.Equal(got, a) {
			t.Errorf("%s: %d bytes (err %v) differ from WriteGGUF's %d", ggufPath, len(got), err, len(a))
		}
		got, err := os.ReadFile(modelfilePath)
		if err != nil {
			t.Fatal(err)
		}
		want := "FROM ./tiny.gguf\n" +
			`TEMPLATE """{{- range .Messages }} {{ .Content }}{{ end }}"""` + "\n" +
			"PARAMETER temperature 0\nPARAMETER num_ctx 256\nPARAMETER num_thread 1\n"
		if string(got) != want {
			t.Errorf("Modelfile = %q, want %q", got, want)
		}
	}
	if _, _, err := Write(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("Write into a missing directory succeeded")
	}
}

func TestGGUFLayout(t *testing.T) {
	raw := writeGGUF(t)
	f, err := readGGUF(raw)
	if err != nil {
		t.Fatal(err)
	}
	if f.version != 3 {
		t.Errorf("version = %d, want 3", f.version)
	}
	if len(raw) < 300_000 || len(raw) > 400_000 {
		t.Errorf("file size = %d bytes, want about 340 KB", len(raw))
	}

	var keys []string
	for _, kv := range f.kvs {
		keys = append(keys, kv.key)
	}
	wantKeys := []string{
		"general.architecture", "general.name", "general.file_type",
		"llama.context_length", "llama.embedding_length", "llama.block_count",
		"llama.feed_forward_length", "llama.attention.head_count", "llama.attention.head_count_kv",
		"llama.attention.layer_norm_rms_epsilon", "llama.rope.dimension_count", "llama.rope.freq_base",
		"llama.vocab_size",
		"tokenizer.ggml.model", "tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type",
		"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id",
		"tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_eos_token",
	}
	if !slices.Equal(keys, wantKeys) {
		t.Errorf("keys = %q,\nwant %q", keys, wantKeys)
	}
	tokens, _ := f.value("tokenizer.ggml.tokens").([]string)
	scores, _ := f.value("tokenizer.ggml.scores").([]float32)
	types, _ := f.value("tokenizer.ggml.token_type").([]int32)
	n := len(tokens)
	if n < 300 || len(scores) != n || len(types) != n {
		t.Fatalf("%d tokens, %d scores, %d token types", n, len(scores), len(types))
	}
	for key, want := range map[string]any{
		"general.architecture":                   "llama",
		"general.file_type":                      uint32(0),
		"llama.context_length":                   uint32(2048),
		"llama.embedding_length":                 uint32(64),
		"llama.block_count":                      uint32(1),
		"llama.feed_forward_length":              uint32(128),
		"llama.attention.head_count":             uint32(4),
		"llama.attention.head_count_kv":          uint32(4),
		"llama.attention.layer_norm_rms_epsilon": float32(1e-5),
		"llama.rope.dimension_count":             uint32(16),
		"llama.rope.freq_base":                   float32(10000),
		"llama.vocab_size":                       uint32(n),
		"tokenizer.ggml.model":                   "llama",
		"tokenizer.ggml.bos_token_id":            uint32(1),
		"tokenizer.ggml.eos_token_id":            uint32(2),
		"tokenizer.ggml.unknown_token_id":        uint32(0),
		"tokenizer.ggml.add_bos_token":           true,
		"tokenizer.ggml.add_eos_token":           false,
	} {
		if got := f.value(key); got != want {
			t.Errorf("%s = %#v, want %#v", key, got, want)
		}
	}

	v := uint64(n)
	want := []tensorInfo{
		{name: "token_embd.weight", ne: []uint64{64, v}},
		{name: "output_norm.weight", ne: []uint64{64}},
		{name: "output.weight", ne: []uint64{64, v}},
		{name: "blk.0.attn_norm.weight", ne: []uint64{64}},
		{name: "blk.0.attn_q.weight", ne: []uint64{64, 64}},
		{name: "blk.0.attn_k.weight", ne: []uint64{64, 64}},
		{name: "blk.0.attn_v.weight", ne: []uint64{64, 64}},
		{name: "blk.0.attn_output.weight", ne: []uint64{64, 64}},
		{name: "blk.0.ffn_norm.weight", ne: []uint64{64}},
		{name: "blk.0.ffn_gate.weight", ne: []uint64{64, 128}},
		{name: "blk.0.ffn_up.weight", ne: []uint64{64, 128}},
		{name: "blk.0.ffn_down.weight", ne: []uint64{128, 64}},
	}
	if len(f.tensors) != len(want) {
		t.Fatalf("%d tensors, want %d", len(f.tensors), len(want))
	}
	if f.dataStart%32 != 0 {
		t.Errorf("tensor data starts at %d, not a multiple of 32", f.dataStart)
	}
	var offset uint64
	for i, ti := range f.tensors {
		if ti.name != want[i].name || !slices.Equal(ti.ne, want[i].ne) || ti.typ != ggmlTypeF32 {
			t.Errorf("tensor %d = %s %v type %d, want %s %v F32", i, ti.name, ti.ne, ti.typ, want[i].name, want[i].ne)
		}
		if ti.offset != offset || ti.offset%32 != 0 {
			t.Errorf("tensor %s at offset %d, want %d (a multiple of 32)", ti.name, ti.offset, offset)
		}
		size := uint64(4)
		for _, d := range ti.ne {
			size *= d
		}
		offset += (size + 31) / 32 * 32
	}
	if got, want := len(raw), f.dataStart+int(offset); got != want {
		t.Errorf("file size = %d, want %d (data start %d + tensor data %d)", got, want, f.dataStart, offset)
	}
}

// loaded is the model as read back from the GGUF file.
type loaded struct {
	tokens []string
	scores []float32
	types  []int32
	ids    map[string]int
	embd   []float32 // [n][64]
	norm   []float32 // [64]
	output []float32 // [n][64]
}

func load(t *testing.T) *loaded {
	t.Helper()
	f, err := readGGUF(writeGGUF(t))
	if err != nil {
		t.Fatal(err)
	}
	m := &loaded{
		tokens: f.value("tokenizer.ggml.tokens").([]string),
		scores: f.value("tokenizer.ggml.scores").([]float32),
		types:  f.value("tokenizer.ggml.token_type").([]int32),
		ids:    make(map[string]int),
		embd:   f.floats(t, "token_embd.weight"),
		norm:   f.floats(t, "output_norm.weight"),
		output: f.floats(t, "output.weight"),
	}
	for id, tok := range m.tokens {
		if _, dup := m.ids[tok]; dup {
			t.Errorf("token %q appears twice", tok)
		}
		m.ids[tok] = id
	}
	// The block must leave the residual stream alone: zero attention and
	// feed-forward weights, unit norms.
	for _, name := range []string{"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"} {
		for i, x := range f.floats(t, "blk.0."+name+".weight") {
			if x != 0 {
				t.Fatalf("blk.0.%s.weight[%d] = %v, want 0", name, i, x)
			}
		}
	}
	for _, name := range []string{"blk.0.attn_norm.weight", "blk.0.ffn_norm.weight", "output_norm.weight"} {
		for i, x := range f.floats(t, name) {
			if x != 1 {
				t.Fatalf("%s[%d] = %v, want 1", name, i, x)
			}
		}
	}
	return m
}

// predict returns the greedy next token after id, computing what llama.cpp
// computes for this model: the embedding, unchanged by the block, through
// the final RMS norm and the output matrix. It fails the test unless the
// winner leads by a wide margin.
func (m *loaded) predict(t *testing.T, id int) int {
	t.Helper()
	const e = embeddingLength
	h := slices.Clone(m.embd[id*e : (id+1)*e])
	var ss float64
	for _, x := range h {
		ss += float64(x) * float64(x)
	}
	scale := float32(1 / math.Sqrt(ss/e+1e-5))
	for i := range h {
		h[i] *= scale * m.norm[i]
	}
	best, second := -1, float32(math.Inf(-1))
	var bestLogit float32
	for u := range m.tokens {
		var logit float32
		for i, x := range h {
			logit += m.output[u*e+i] * x
		}
		switch {
		case best < 0 || logit > bestLogit:
			second = max(second, bestLogit)
			best, bestLogit = u, logit
		case logit > second:
			second = logit
		}
	}
	if bestLogit-second < 10 {
		t.Fatalf("after %q: %q wins with logit %v, runner-up %v: too close", m.tokens[id], m.tokens[best], bestLogit, second)
	}
	return best
}

// generate decodes greedily after the token sequence prompt until EOS or n
// tokens, and returns the text.
func (m *loaded) generate(t *testing.T, prompt []int, n int) string {
	t.Helper()
	var b strings.Builder
	last := prompt[len(prompt)-1]
	for range n {
		last = m.predict(t, last)
		if last == eosID {
			break
		}
		b.WriteString(strings.ReplaceAll(m.tokens[last], "▁", " "))
	}
	return b.String()
}

// tokenize mimics llama.cpp's SentencePiece tokenizer: BOS, a space prefix,
// spaces as "▁", then repeatedly merging the adjacent pair with the best
// scoring result in the vocabulary (leftmost first), and bytes for the rest.
func (m *loaded) tokenize(text string) []int {
	var syms []string
	for _, r := range strings.ReplaceAll(" "+text, " ", "▁") {
		syms = append(syms, string(r))
	}
	for {
		best := -1
		var bestScore float32
		for i := 0; i+1 < len(syms); i++ {
			id, ok := m.ids[syms[i]+syms[i+1]]
			if ok && (best < 0 || m.scores[id] > bestScore) {
				best, bestScore = i, m.scores[id]
			}
		}
		if best < 0 {
			break
		}
		syms = slices.Replace(syms, best, best+2, syms[best]+syms[best+1])
	}
	ids := []int{bosID}
	for _, s := range syms {
		if id, ok := m.ids[s]; ok {
			ids = append(ids, id)
			continue
		}
		for _, c := range []byte(s) {
			ids = append(ids, m.ids[fmt.Sprintf("<0x%02X>", c)])
		}
	}
	return ids
}

func TestVocabulary(t *testing.T) {
	m := load(t)
	for id, want := range []string{"<unk>", "<s>", "</s>"} {
		if m.tokens[id] != want || m.types[id] != []int32{2, 3, 3}[id] {
			t.Errorf("token %d = %q type %d", id, m.tokens[id], m.types[id])
		}
	}
	for b := range 256 {
		id := 3 + b
		if want := fmt.Sprintf("<0x%02X>", b); m.tokens[id] != want || m.types[id] != 6 || m.scores[id] != 0 {
			t.Errorf("token %d = %q type %d, want byte token %q", id, m.tokens[id], m.types[id], want)
		}
	}
	for _, w := range append(append(slices.Clone(foxWords), countWords...), "", ".") {
		piece := "▁" + w
		if w == "." {
			piece = w
		}
		if id, ok := m.ids[piece]; !ok || m.types[id] != 1 {
			t.Errorf("no normal token %q", piece)
		}
	}
	// llama.cpp builds a piece only from pairs whose merge is in the
	// vocabulary, so every "▁" piece needs its one-shorter prefix, which must
	// score lower so that the longest piece wins.
	for id, tok := range m.tokens[3+256:] {
		id += 3 + 256
		r := []rune(tok)
		if m.types[id] != 1 || m.scores[id] != float32(len(r)) {
			t.Errorf("token %q: type %d score %v, want normal with score %d", tok, m.types[id], m.scores[id], len(r))
		}
		if len(r) < 2 {
			continue
		}
		if p, ok := m.ids[string(r[:len(r)-1])]; !ok || m.scores[p] >= m.scores[id] {
			t.Errorf("token %q: its prefix %q is missing or does not score lower", tok, string(r[:len(r)-1]))
		}
	}

	for text, want := range map[string][]string{
		" The":           {"<s>", "▁", "▁The"},
		"The quick dog.": {"<s>", "▁The", "▁quick", "▁dog", "."},
		"seven eleven":   {"<s>", "▁seven", "▁e", "<0x6C>", "<0x65>", "<0x76>", "<0x65>", "<0x6E>"},
		"é":              {"<s>", "▁", "<0xC3>", "<0xA9>"},
	} {
		var got []string
		for _, id := range m.tokenize(text) {
			got = append(got, m.tokens[id])
		}
		if !slices.Equal(got, want) {
			t.Errorf("tokenize(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestGreedyDecoding(t *testing.T) {
	m := load(t)
	for _, tt := range []struct {
		prompt string
		n      int
		want   string
	}{
		// The template puts a space before each message.
		{" The", 100, FoxSentence},
		{" one", 30, Counting(30)},
		{" Hello", 100, DefaultReply},
		{" the", 100, " lazy dog."},
		{" ten", 3, " one two three"},
		{" dog.", 100, ""},
		{" " + ThinkingPrompt, 100, ThinkingRaw},
		{" Hamlet", 100, " asks whether to live</think> To be."},
		{" é", 100, DefaultReply},
		{"", 100, DefaultReply},
	} {
		if got := m.generate(t, m.tokenize(tt.prompt), tt.n); got != tt.want {
			t.Errorf("generate(%q, %d) = %q, want %q", tt.prompt, tt.n, got, tt.want)
		}
	}

	// Every token outside the three chains is followed by "▁The".
	chain := make(map[string]bool)
	for _, w := range append(append(slices.Clone(foxWords), countWords...), "Why") {
		chain["▁"+w] = true
	}
	for _, w := range thinkWords {
		if strings.HasPrefix(w, "<") {
			chain[w] = true
		} else {
			chain["▁"+w] = true
		}
	}
	chain["."] = true
	dims := make(map[int]bool)
	for id, tok := range m.tokens {
		d := slices.Index(m.embd[id*embeddingLength:(id+1)*embeddingLength], 1)
		if chain[tok] {
			if d <= 0 || dims[d] {
				t.Errorf("chain token %q has dimension %d, want its own one", tok, d)
			}
			dims[d] = true
			continue
		}
		if next := m.predict(t, id); m.tokens[next] != "▁The" {
			t.Errorf("after %q comes %q, want ▁The", tok, m.tokens[next])
		}
	}
	if len(dims) != len(chain) {
		t.Errorf("%d chain dimensions, want %d", len(dims), len(chain))
	}
}

func TestCounting(t *testing.T) {
	for n, want := range map[int]string{
		0:  "",
		1:  " two",
		3:  " two three four",
		10: " two three four five six seven eight nine ten one",
		12: " two three four five six seven eight nine ten one two three",
	} {
		if got := Counting(n); got != want {
			t.Errorf("Counting(%d) = %q, want %q", n, got, want)
		}
	}
	if got := strings.Fields(Counting(30)); len(got) != 30 || got[29] != "one" {
		t.Errorf("Counting(30) = %q, want 30 words ending in one", got)
	}
}

func TestReplies(t *testing.T) {
	if FoxSentence != " quick brown fox jumps over the lazy dog." {
		t.Errorf("FoxSentence = %q", FoxSentence)
	}
	if DefaultReply != " The quick brown fox jumps over the lazy dog." {
		t.Errorf("DefaultReply = %q", DefaultReply)
	}
}
