// Package worddiff compares two texts word by word, as `git diff
// --word-diff` does, for setting two answers of a run side by side.
//
// A word is a run of non-space characters (unicode.IsSpace); punctuation
// and emoji stay with their word. Chinese and Japanese, written without
// spaces, have a word per character (Han, Hiragana, Katakana); other
// scripts written without spaces, such as Thai, have a word per phrase.
// Words are matched on their characters alone, so spacing never hides a
// word both texts share: where only the whitespace between two shared
// words differs, the whitespace is what the diff marks. The parts keep
// every byte of both texts: the Same and OnlyA parts, in order, are text
// A exactly, the Same and OnlyB parts text B.
//
// The longest common run of words comes from diffmatchpatch (Myers'
// algorithm), each distinct word standing for one rune. A short run of
// words in common between longer changes on both sides is shown as
// changed, so that two answers which say different things read as two
// passages rather than as a scatter of "the" and "of".
package worddiff

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// Op says which text a Part belongs to.
type Op int

const (
	// Same is text of both A and B.
	Same Op = iota
	// OnlyA is text of A alone: what B removed.
	OnlyA
	// OnlyB is text of B alone: what B added.
	OnlyB
)

var opNames = [...]string{Same: "same", OnlyA: "only_a", OnlyB: "only_b"}

// String is the op's name: same, only_a or only_b.
func (o Op) String() string {
	if o < 0 || int(o) >= len(opNames) {
		return "Op(" + strconv.Itoa(int(o)) + ")"
	}
	return opNames[o]
}

// MarshalText writes the op as its name: same, only_a or only_b.
func (o Op) MarshalText() ([]byte, error) {
	if o < 0 || int(o) >= len(opNames) {
		return nil, fmt.Errorf("worddiff: no such op: %d", int(o))
	}
	return []byte(opNames[o]), nil
}

// UnmarshalText reads an op written by MarshalText.
func (o *Op) UnmarshalText(b []byte) error {
	for i, n := range opNames {
		if string(b) == n {
			*o = Op(i)
			return nil
		}
	}
	return fmt.Errorf("worddiff: unknown op %q (want same, only_a or only_b)", b)
}

// Part is a piece of text of A, of B, or of both, with its spacing and
// line breaks as they were.
type Part struct {
	Op   Op     `json:"op"`
	Text string `json:"text"`
}

// Counts are the words of a diff, by the text they belong to.
type Counts struct {
	Same  int `json:"same"`
	OnlyA int `json:"only_a"`
	OnlyB int `json:"only_b"`
}

// Similarity is the share of the words of both texts that they have in
// common, from 0 (none) to 1 (every word, in the same order):
// 2·Same / (words of A + words of B). Two texts without words are alike:
// 1.
func (c Counts) Similarity() float64 {
	total := 2*c.Same + c.OnlyA + c.OnlyB
	if total == 0 {
		return 1
	}
	return float64(2*c.Same) / float64(total)
}

// Count counts the words of each kind of part. The parts of Words never
// cut a word, so each word is counted once.
func Count(parts []Part) Counts {
	var c Counts
	for _, p := range parts {
		n := countWords(p.Text)
		switch p.Op {
		case Same:
			c.Same += n
		case OnlyA:
			c.OnlyA += n
		case OnlyB:
			c.OnlyB += n
		}
	}
	return c
}

// Text renders parts as `git diff --word-diff=plain` does, for output
// without colour: text only in A as [-text-], text only in B as {+text+}.
// The marks are not escaped: a text holding "-]" or "+}" itself reads
// ambiguously.
func Text(parts []Part) string {
	var b strings.Builder
	for _, p := range parts {
		switch p.Op {
		case OnlyA:
			b.WriteString("[-" + p.Text + "-]")
		case OnlyB:
			b.WriteString("{+" + p.Text + "+}")
		default:
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// timeBudget bounds the search for the longest common run of words. Two
// long answers that share few words (20,000 words each, say) would take
// Myers' algorithm seconds; past the budget, what is left to compare is
// shown as changed on both sides, which for such texts is nearly what the
// full search would find.
const timeBudget = 300 * time.Millisecond

// Words compares a and b word by word. Parts of the same Op are never
// adjacent, and between two Same parts the OnlyA part, if any, comes
// before the OnlyB part. Identical texts give one Same part, two empty
// texts none.
func Words(a, b string) []Part {
	ta, tb := tokenize(a), tokenize(b)
	return emit(a, b, ta, tb, dropShortSames(diffTokens(a, b, ta, tb)))
}

// token is a word of a text, s[start:end], and the whitespace after it,
// up to next. A text's first token has no word: it holds the whitespace
// the text starts with.
type token struct{ start, end, next int }

func (t token) word(s string) string { return s[t.start:t.end] }

func tokenize(s string) []token {
	toks := make([]token, 0, len(s)/6+1)
	i := skipSpace(s, 0)
	toks = append(toks, token{0, 0, i})
	for i < len(s) {
		j := endOfWord(s, i)
		k := skipSpace(s, j)
		toks = append(toks, token{i, j, k})
		i = k
	}
	return toks
}

// countWords is the number of words of s.
func countWords(s string) int {
	n := 0
	for i := skipSpace(s, 0); i < len(s); i = skipSpace(s, endOfWord(s, i)) {
		n++
	}
	return n
}

// skipSpace is the index of the first non-space of s from i, or len(s).
func skipSpace(s string, i int) int {
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsSpace(r) {
			break
		}
		i += size
	}
	return i
}

// endOfWord is the end of the word that starts at s[i]: at the next
// space, or at the next character of a script written without spaces,
// each of which is a word.
func endOfWord(s string, i int) int {
	r, size := utf8.DecodeRuneInString(s[i:])
	i += size
	if isWordAlone(r) {
		return i
	}
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) || isWordAlone(r) {
			break
		}
		i += size
	}
	return i
}

// isWordAlone reports whether r is a word by itself: a Chinese or
// Japanese character, which are written without spaces between words.
func isWordAlone(r rune) bool {
	return r >= 0x2E80 && unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana)
}

// run is n tokens of one Op in a row.
type run struct {
	op Op
	n  int
}

// Runes for words of one text alone: they match nothing of the other text,
// so they need no rune each, which keeps the number of runes needed within
// Unicode for texts of any size but the absurd.
const (
	runeOnlyA = 0
	runeOnlyB = 1
	firstRune = 2
	// maxRunes is the number of runes available: Unicode without the
	// surrogates, which do not survive diffmatchpatch's strings.
	maxRunes = unicode.MaxRune + 1 - (0xE000 - 0xD800)
)

// wordRune is the rune standing for the i-th word of both texts.
func wordRune(i int) rune {
	r := rune(firstRune + i)
	if r >= 0xD800 {
		r += 0xE000 - 0xD800
	}
	return r
}

// diffTokens finds the longest common run of words of ta and tb.
func diffTokens(a, b string, ta, tb []token) []run {
	inA := make(map[string]bool, len(ta))
	for _, t := range ta {
		inA[t.word(a)] = true
	}
	common := make(map[string]rune)
	rb := make([]rune, len(tb))
	for i, t := range tb {
		w := t.word(b)
		r, ok := common[w]
		switch {
		case ok:
		case !inA[w]:
			r = runeOnlyB
		case firstRune+len(common) >= maxRunes:
			return coarse(a, b, ta, tb)
		default:
			r = wordRune(len(common))
			common[w] = r
		}
		rb[i] = r
	}
	ra := make([]rune, len(ta))
	for i, t := range ta {
		r, ok := common[t.word(a)]
		if !ok {
			r = runeOnlyA
		}
		ra[i] = r
	}
	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = timeBudget
	// No line mode: it would read the runes as text and split on the rune
	// for '\n'.
	diffs := dmp.DiffMainRunes(ra, rb, false)
	runs := make([]run, 0, len(diffs))
	na, nb := 0, 0
	for _, d := range diffs {
		r := run{Same, utf8.RuneCountInString(d.Text)}
		switch d.Type {
		case diffmatchpatch.DiffDelete:
			r.op = OnlyA
			na += r.n
		case diffmatchpatch.DiffInsert:
			r.op = OnlyB
			nb += r.n
		default:
			na += r.n
			nb += r.n
		}
		runs = append(runs, r)
	}
	if na != len(ta) || nb != len(tb) {
		// Never seen; emit would cut the texts short.
		return coarse(a, b, ta, tb)
	}
	return runs
}

// coarse is a diff without the search: the words both texts start and end
// with in common, and what is between as changed.
func coarse(a, b string, ta, tb []token) []run {
	pre := 0
	for pre < len(ta) && pre < len(tb) && ta[pre].word(a) == tb[pre].word(b) {
		pre++
	}
	suf := 0
	for suf < len(ta)-pre && suf < len(tb)-pre && ta[len(ta)-1-suf].word(a) == tb[len(tb)-1-suf].word(b) {
		suf++
	}
	return []run{{Same, pre}, {OnlyA, len(ta) - pre - suf}, {OnlyB, len(tb) - pre - suf}, {Same, suf}}
}

// dropShortSames turns into changes the runs of Same words that are
// shorter than the changes on either side of them (in words, the longer of
// the two texts' changes): "[-a b-]{+c d+} the [-e f-]{+g+}" becomes
// "[-a b the e f-]{+c d the g+}". It is diffmatchpatch's
// DiffCleanupSemantic with words for characters, less eager: a word
// between two one-word changes stays ("the [-quick-]{+slow+} brown
// [-fox-]{+dog+}").
func dropShortSames(runs []run) []run {
	var sames []int // indexes of the Same runs kept so far, in order
	// The words changed before and after the last Same run kept.
	var beforeA, beforeB, afterA, afterB int
	changed := false
	for i := 0; i < len(runs); i++ {
		r := runs[i]
		switch r.op {
		case Same:
			if r.n > 0 {
				sames = append(sames, i)
				beforeA, beforeB, afterA, afterB = afterA, afterB, 0, 0
			}
			continue
		case OnlyA:
			afterA += r.n
		case OnlyB:
			afterB += r.n
		case dropped:
			afterA += r.n
			afterB += r.n
		}
		if len(sames) == 0 {
			continue
		}
		last := sames[len(sames)-1]
		if n := runs[last].n; n < max(beforeA, beforeB) && n < max(afterA, afterB) {
			runs[last].op = dropped
			changed = true
			// The Same run before has more changes after it now: look at
			// it again, from the one before it.
			sames = sames[:len(sames)-1]
			if len(sames) > 0 {
				sames = sames[:len(sames)-1]
			}
			i = -1
			if len(sames) > 0 {
				i = sames[len(sames)-1]
			}
			beforeA, beforeB, afterA, afterB = 0, 0, 0, 0
		}
	}
	if !changed {
		return runs
	}
	return mergeRuns(runs)
}

// dropped is a run of words of both texts that dropShortSames shows as
// changed: OnlyA and OnlyB at once.
const dropped Op = -1

// mergeRuns joins the runs of a block of changes into one OnlyA run and
// one OnlyB run, and Same runs in a row into one.
func mergeRuns(runs []run) []run {
	out := runs[:0:0]
	for i := 0; i < len(runs); {
		if runs[i].op == Same {
			n := 0
			for ; i < len(runs) && runs[i].op == Same; i++ {
				n += runs[i].n
			}
			out = append(out, run{Same, n})
			continue
		}
		a, b := 0, 0
		for ; i < len(runs) && runs[i].op != Same; i++ {
			switch runs[i].op {
			case OnlyA:
				a += runs[i].n
			case OnlyB:
				b += runs[i].n
			case dropped:
				a += runs[i].n
				b += runs[i].n
			}
		}
		out = append(out, run{OnlyA, a}, run{OnlyB, b})
	}
	return out
}

// emit writes the parts of a and b that runs says, runs of their tokens ta
// and tb. What lies between two words in common (whitespace, and the
// words changed) is a change, but for the whitespace it starts and ends
// with in both texts: "the[- quick -]{+ slow +}brown" is "the
// [-quick-]{+slow+} brown".
func emit(a, b string, ta, tb []token, runs []run) []Part {
	var p parts
	i, j := 0, 0   // the next token of ta, of tb
	pa, pb := 0, 0 // where the text not yet written begins in a, in b
	for _, r := range runs {
		switch r.op {
		case OnlyA:
			i += r.n
			continue
		case OnlyB:
			j += r.n
			continue
		}
		for range r.n {
			x, y := ta[i], tb[j]
			p.between(a[pa:x.start], b[pb:y.start])
			p.add(Same, x.word(a))
			pa, pb = x.end, y.end
			i++
			j++
		}
	}
	p.between(a[pa:], b[pb:])
	return p.done()
}

// parts builds the parts of a diff: the text of each op is gathered until
// a part of another op must begin.
type parts struct {
	out []Part
	cur [3]strings.Builder // Same, OnlyA, OnlyB
}

func (p *parts) add(op Op, s string) {
	if s == "" {
		return
	}
	if op == Same {
		p.flush(OnlyA)
		p.flush(OnlyB)
	} else {
		p.flush(Same)
	}
	p.cur[op].WriteString(s)
}

func (p *parts) flush(op Op) {
	if p.cur[op].Len() > 0 {
		p.out = append(p.out, Part{op, p.cur[op].String()})
		p.cur[op].Reset()
	}
}

// between adds what lies between two words in common, or before the
// first or after the last: a of text A, b of text B.
func (p *parts) between(a, b string) {
	if a == b {
		p.add(Same, a)
		return
	}
	pre := commonPrefix(a[:skipSpace(a, 0)], b[:skipSpace(b, 0)])
	a, b = a[len(pre):], b[len(pre):]
	suf := commonSuffix(a[trailingSpace(a):], b[trailingSpace(b):])
	p.add(Same, pre)
	p.add(OnlyA, a[:len(a)-len(suf)])
	p.add(OnlyB, b[:len(b)-len(suf)])
	p.add(Same, suf)
}

// trailingSpace is the index of the whitespace s ends with.
func trailingSpace(s string) int {
	i := len(s)
	for i > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:i])
		if !unicode.IsSpace(r) {
			break
		}
		i -= size
	}
	return i
}

func (p *parts) done() []Part {
	p.flush(Same)
	p.flush(OnlyA)
	p.flush(OnlyB)
	return p.out
}

// commonPrefix is the longest prefix of a and b in whole runes.
func commonPrefix(a, b string) string {
	n := 0
	for n < len(a) && n < len(b) {
		ra, size := utf8.DecodeRuneInString(a[n:])
		if rb, sizeB := utf8.DecodeRuneInString(b[n:]); ra != rb || size != sizeB || a[n:n+size] != b[n:n+size] {
			break
		}
		n += size
	}
	return a[:n]
}

// commonSuffix is the longest suffix of a and b in whole runes.
func commonSuffix(a, b string) string {
	n := 0
	for n < len(a) && n < len(b) {
		_, size := utf8.DecodeLastRuneInString(a[:len(a)-n])
		if size > len(b)-n || a[len(a)-n-size:len(a)-n] != b[len(b)-n-size:len(b)-n] {
			break
		}
		n += size
	}
	return a[len(a)-n:]
}
