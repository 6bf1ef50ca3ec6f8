package worddiff

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func same(s string) Part  { return Part{Same, s} }
func onlyA(s string) Part { return Part{OnlyA, s} }
func onlyB(s string) Part { return Part{OnlyB, s} }

func TestWords(t *testing.T) {
	for _, tt := range []struct {
		name string
		a, b string
		want []Part
	}{
		{"empty", "", "", nil},
		{"identical", "The sky is blue.\n", "The sky is blue.\n", []Part{same("The sky is blue.\n")}},
		{"only spaces, identical", " \n\t", " \n\t", []Part{same(" \n\t")}},
		{"a empty", "", "Hello world", []Part{onlyB("Hello world")}},
		{"b empty", "Hello world\n", "", []Part{onlyA("Hello world\n")}},
		{"words replaced", "the quick brown fox", "the slow brown dog",
			[]Part{same("the "), onlyA("quick"), onlyB("slow"), same(" brown "), onlyA("fox"), onlyB("dog")}},
		{"word removed", "a b c", "a c", []Part{same("a "), onlyA("b "), same("c")}},
		{"word added at the end", "Hello", "Hello world", []Part{same("Hello"), onlyB(" world")}},
		{"word added at the start", "world", "Hello world", []Part{onlyB("Hello "), same("world")}},
		{"punctuation stays with its word", "Yes, it is.", "Yes it is!", []Part{onlyA("Yes,"), onlyB("Yes"), same(" it "), onlyA("is."), onlyB("is!")}},
		{"only whitespace differs", "a b\nc", "a  b\n\nc", []Part{same("a "), onlyB(" "), same("b\n"), onlyB("\n"), same("c")}},
		{"whitespace replaced", "a b", "a\tb", []Part{same("a"), onlyA(" "), onlyB("\t"), same("b")}},
		{"leading whitespace", "  hi there", "hi there", []Part{onlyA("  "), same("hi there")}},
		{"trailing whitespace", "hi\n", "hi", []Part{same("hi"), onlyA("\n")}},
		{"line breaks kept in changes", "one\ntwo\nthree", "one\n2\nthree", []Part{same("one\n"), onlyA("two"), onlyB("2"), same("\nthree")}},
		{"changed words before different spaces", "x a\ny", "x b  y", []Part{same("x "), onlyA("a\n"), onlyB("b  "), same("y")}},
		{"emoji", "good 👍 job", "good 👎 job", []Part{same("good "), onlyA("👍"), onlyB("👎"), same(" job")}},
		{"Chinese, a word per character", "我爱你。", "我恨你。", []Part{same("我"), onlyA("爱"), onlyB("恨"), same("你。")}},
		{"Japanese", "すしが好きです", "すしが嫌いです", []Part{same("すしが"), onlyA("好き"), onlyB("嫌い"), same("です")}},
		{"unicode spaces", "a\u00a0b\u3000c", "a\u00a0b c", []Part{same("a\u00a0b"), onlyA("\u3000"), onlyB(" "), same("c")}},
		{"space runes of a common prefix", "a\u2002b", "a\u2003b", []Part{same("a"), onlyA("\u2002"), onlyB("\u2003"), same("b")}},
		{"nothing in common", "red green", "blue", []Part{onlyA("red green"), onlyB("blue")}},
		// One word in common between longer changes is a change too ...
		{"short common run dropped", "a b the e f", "c d the g", []Part{onlyA("a b the e f"), onlyB("c d the g")}},
		// ... but not a run as long as the changes around it.
		{"common run kept", "a b the sky e f", "c d the sky g", []Part{onlyA("a b"), onlyB("c d"), same(" the sky "), onlyA("e f"), onlyB("g")}},
		{"repeated words", "la la la", "la la", []Part{same("la la"), onlyA(" la")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := Words(tt.a, tt.b)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Words(%q, %q)\n got %q\nwant %q", tt.a, tt.b, got, tt.want)
			}
			checkParts(t, tt.a, tt.b, got)
		})
	}
}

// checkParts fails t unless parts are a diff of a and b: each text given
// back exactly, no empty part, no two parts of one op in a row, OnlyA
// before OnlyB, and every word counted once.
func checkParts(t *testing.T, a, b string, parts []Part) {
	t.Helper()
	var ga, gb strings.Builder
	for i, p := range parts {
		if p.Text == "" {
			t.Errorf("part %d is empty: %q", i, parts)
		}
		if i > 0 && (parts[i-1].Op == p.Op || parts[i-1].Op == OnlyB && p.Op == OnlyA) {
			t.Errorf("part %d (%v) follows a part %v: %q", i, p.Op, parts[i-1].Op, parts)
		}
		switch p.Op {
		case Same:
			ga.WriteString(p.Text)
			gb.WriteString(p.Text)
		case OnlyA:
			ga.WriteString(p.Text)
		case OnlyB:
			gb.WriteString(p.Text)
		default:
			t.Fatalf("part %d has op %v", i, p.Op)
		}
	}
	if ga.String() != a {
		t.Errorf("text A given back as %q, want %q", ga.String(), a)
	}
	if gb.String() != b {
		t.Errorf("text B given back as %q, want %q", gb.String(), b)
	}
	c := Count(parts)
	if wa, wb := countWords(a), countWords(b); c.Same+c.OnlyA != wa || c.Same+c.OnlyB != wb {
		t.Errorf("counts %+v for %d and %d words", c, wa, wb)
	}
	if a == b && (len(parts) > 1 || c.Similarity() != 1) {
		t.Errorf("identical texts: %q, similarity %v", parts, c.Similarity())
	}
}

func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	texts := []string{"", " ", "\n\n", "a", "a b", " a", "a ", "a  b", "Hello world", "Hello, world!\n",
		"the quick brown fox jumps over the lazy dog", "dog lazy the over jumps fox brown quick the",
		"我爱你", "我 爱 你", "日本語のテキスト", "👍👎 🎉", "e\u0301 combining", "\u00a0nbsp\u00a0",
		"tab\tseparated\tvalues\n", "\xff\xfe invalid \xc3", "a\r\nb\r\n", "** bold ** `code`\n\n# heading\n- item"}
	for range 200 {
		texts = append(texts, randomText(rng, rng.IntN(40), 12))
	}
	for i, a := range texts {
		for j, b := range texts {
			if i > 25 && j > 25 && (i+j)%7 != 0 {
				continue // enough pairs of random texts
			}
			checkParts(t, a, b, Words(a, b))
		}
	}
	// Edits of one text, as two answers of one model would differ.
	for range 300 {
		a := randomText(rng, rng.IntN(300), 60)
		b := edit(rng, a, 0.1)
		checkParts(t, a, b, Words(a, b))
	}
}

// TestLarge: two answers of 20,000 words, one an edit of the other, and
// two that share only their vocabulary.
func TestLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	a := randomText(rng, 20000, 3000)
	for name, b := range map[string]string{"edited": edit(rng, a, 0.05), "unrelated": randomText(rng, 20000, 3000)} {
		t.Run(name, func(t *testing.T) {
			parts := Words(a, b)
			checkParts(t, a, b, parts)
			c := Count(parts)
			t.Logf("%d parts, %+v, similarity %.2f", len(parts), c, c.Similarity())
			if name == "edited" && c.Similarity() < 0.9 {
				t.Errorf("an edit of 5%% of the words: similarity %.2f", c.Similarity())
			}
		})
	}
}

// TestCoarse: the diff without the search, used when the texts hold more
// distinct words than there are runes, gives the texts back too.
func TestCoarse(t *testing.T) {
	for _, tt := range [][2]string{{"", ""}, {"a b c", "a b c"}, {"a b c d", "a x d"}, {"x", "y"}, {"a a", "a"}, {"  a", "a  "}} {
		a, b := tt[0], tt[1]
		ta, tb := tokenize(a), tokenize(b)
		checkParts(t, a, b, emit(a, b, ta, tb, coarse(a, b, ta, tb)))
	}
}

// TestWordRune: every word has a rune of its own that survives a string.
func TestWordRune(t *testing.T) {
	last := int(maxRunes - firstRune - 1)
	for _, i := range []int{0, 1, 0xD800 - firstRune - 1, 0xD800 - firstRune, 0xD800 - firstRune + 1, last - 1, last} {
		r := wordRune(i)
		if back := []rune(string(r)); !utf8.ValidRune(r) || len(back) != 1 || back[0] != r || r == runeOnlyA || r == runeOnlyB {
			t.Errorf("word %d: rune %U", i, r)
		}
	}
	if wordRune(last) != utf8.MaxRune {
		t.Errorf("the last word has rune %U, want %U", wordRune(last), utf8.MaxRune)
	}
}

func TestCount(t *testing.T) {
	parts := Words("Rayleigh scattering makes the sky blue.", "Scattering makes the sky look blue!")
	c := Count(parts)
	if want := (Counts{Same: 3, OnlyA: 3, OnlyB: 3}); c != want {
		t.Errorf("Count(%q) = %+v, want %+v", parts, c, want)
	}
	if s := c.Similarity(); s != 0.5 {
		t.Errorf("similarity %v", s)
	}
	for _, tt := range []struct {
		c    Counts
		want float64
	}{{Counts{}, 1}, {Counts{Same: 3}, 1}, {Counts{OnlyA: 2, OnlyB: 1}, 0}, {Counts{Same: 1, OnlyA: 1, OnlyB: 1}, 0.5}} {
		if got := tt.c.Similarity(); got != tt.want {
			t.Errorf("%+v.Similarity() = %v, want %v", tt.c, got, tt.want)
		}
	}
}

func TestText(t *testing.T) {
	got := Text(Words("the quick brown fox\n", "the slow brown fox jumps\n"))
	if want := "the [-quick-]{+slow+} brown fox{+ jumps+}\n"; got != want {
		t.Errorf("Text = %q, want %q", got, want)
	}
	if got := Text(nil); got != "" {
		t.Errorf("Text(nil) = %q", got)
	}
}

func TestJSON(t *testing.T) {
	parts := Words("a b", "a c")
	b, err := json.Marshal(struct {
		Parts  []Part `json:"parts"`
		Counts Counts `json:"counts"`
	}{parts, Count(parts)})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"parts":[{"op":"same","text":"a "},{"op":"only_a","text":"b"},{"op":"only_b","text":"c"}],"counts":{"same":1,"only_a":1,"only_b":1}}`
	if string(b) != want {
		t.Errorf("JSON %s\nwant %s", b, want)
	}
	var back []Part
	if err := json.Unmarshal([]byte(want[len(`{"parts":`):strings.Index(want, `,"counts"`)]), &back); err != nil || !reflect.DeepEqual(back, parts) {
		t.Errorf("read back: %q, %v", back, err)
	}
	if _, err := json.Marshal(Part{Op: 7}); err == nil {
		t.Error("op 7 written as JSON")
	}
	if err := json.Unmarshal([]byte(`{"op":"removed"}`), new(Part)); err == nil || !strings.Contains(err.Error(), "only_a") {
		t.Errorf("unknown op read: %v", err)
	}
	if s := Op(7).String(); s != "Op(7)" {
		t.Errorf("Op(7).String() = %q", s)
	}
}

func FuzzWords(f *testing.F) {
	for _, s := range [][2]string{{"", ""}, {"the quick brown fox", "the slow brown dog"}, {"a  b", "a b"}, {"我爱你", "我恨你"},
		{"👍 x", "x 👍"}, {"\xff a", "a \xff"}, {" lead", "lead "}, {"a b the e f", "c d the g"}, {"\u2002", "\u2003"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		checkParts(t, a, b, Words(a, b))
	})
}

// BenchmarkWords compares two answers of 20,000 words: one an edit of the
// other (5% of the words changed), and two that share only their
// vocabulary, the worst case, bounded by timeBudget.
func BenchmarkWords(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	a := randomText(rng, 20000, 3000)
	for _, bc := range []struct{ name, b string }{
		{"edited", edit(rng, a, 0.05)},
		{"unrelated", randomText(rng, 20000, 3000)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(a) + len(bc.b)))
			for b.Loop() {
				Words(a, bc.b)
			}
		})
	}
}

// randomText is n words of a vocabulary of size words, the first ones the
// most frequent, with punctuation and line breaks as in an answer.
func randomText(rng *rand.Rand, n, size int) string {
	zipf := rand.NewZipf(rng, 1.1, 1, uint64(size-1))
	var b strings.Builder
	for i := range n {
		if i > 0 {
			switch x := rng.IntN(40); {
			case x == 0:
				b.WriteString("\n\n")
			case x == 1:
				b.WriteString("\n- ")
			default:
				b.WriteByte(' ')
			}
		}
		b.WriteString("w" + strconv.FormatUint(zipf.Uint64(), 36))
		if rng.IntN(12) == 0 {
			b.WriteString([]string{".", ",", ":", "!", "?"}[rng.IntN(5)])
		}
	}
	return b.String()
}

// edit changes a share of the words of s: each one is removed, replaced,
// or has a word put after it, and some spaces become line breaks.
func edit(rng *rand.Rand, s string, share float64) string {
	var b strings.Builder
	for _, t := range tokenize(s) {
		word, space := t.word(s), s[t.end:t.next]
		if rng.Float64() < share {
			switch rng.IntN(4) {
			case 0:
				word = ""
			case 1:
				word = "x" + strconv.Itoa(rng.IntN(100))
			case 2:
				word += " y" + strconv.Itoa(rng.IntN(100))
			default:
				if space == " " {
					space = "\n"
				}
			}
		}
		if word == "" && t.end > t.start {
			continue
		}
		b.WriteString(word + space)
	}
	return b.String()
}
