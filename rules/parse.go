package rules

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Error is a problem with a rule. Col is the 1-based column in the query,
// counted in runes; Offset is the byte offset of the same place.
type Error struct {
	Rule        string
	Offset, Col int
	Msg         string
}

func (e *Error) Error() string {
	return fmt.Sprintf("rule %q: column %d: %s", e.Rule, e.Col, e.Msg)
}

// Diagnostic is a warning about a rule that compiles but may not do what
// its author meant.
type Diagnostic struct {
	Rule string
	Col  int
	Msg  string
}

func (d Diagnostic) String() string {
	return fmt.Sprintf("rule %q: column %d: %s", d.Rule, d.Col, d.Msg)
}

// Limits of the language.
const (
	maxNear      = 50   // NEAR/n and "phrase"~n
	defaultNear  = 5    // NEAR without /n
	minPrefix    = 3    // letters before * in a wildcard
	maxAtLeast   = 1000 // ATLEAST(n, ...)
	maxQueryLen  = 8192 // bytes
	maxNestDepth = 100  // parentheses and operators
)

type kind uint8

const (
	kSeq    kind = iota // a word or phrase: a sequence of units
	kPrefix             // word*
	kAnd
	kOr
	kNot
	kNear
	kAtLeast
)

// mode says which form of a word a sequence compares.
type mode uint8

const (
	modeStem  mode = iota // bare word: any inflection
	modeExact             // quoted: that form, case- and accent-insensitive
	modeCased             // CASE(): that form with its case and accents
)

// unit is one word of a sequence: one or more alternative token runs
// (a hyphenated word matches "cross-border", "cross border" and
// "crossborder").
type unit struct {
	alts [][]token
}

// node is the syntax tree of a rule, also its evaluation tree.
type node struct {
	kind    kind
	off     int // byte offset in the query where this node starts
	scope   fieldMask
	mode    mode
	units   []unit // kSeq
	prefix  string // kPrefix, exact form
	kids    []*node
	n       int  // NEAR distance, ATLEAST count
	ordered bool // ONEAR
	src     string
}

// positional reports whether a node has occurrences with positions, so it
// can be an operand of NEAR or ATLEAST.
func (n *node) positional() bool {
	switch n.kind {
	case kSeq, kPrefix, kNear:
		return true
	case kOr:
		for _, k := range n.kids {
			if !k.positional() {
				return false
			}
		}
		return true
	}
	return false
}

// --- lexer ---

type tkind uint8

const (
	tEOF tkind = iota
	tWord
	tQuote
	tLParen
	tRParen
	tAnd
	tOr
	tNot
	tMinus
	tNear
	tField
	tCase
	tAtLeast
)

type tok struct {
	kind    tkind
	off     int
	text    string // word text, phrase contents, field name
	n       int    // NEAR/n, ~n, ATLEAST n
	hasN    bool
	ordered bool
}

func isQuote(r rune) bool {
	switch r {
	case '"', '\u201C', '\u201D', '\u201E', '\u201F', '\u00AB', '\u00BB', '\uFF02', '\u2033':
		return true
	}
	return false
}

func isSpace(r rune) bool { return unicode.IsSpace(r) || r == '\u200B' || r == '\uFEFF' }

type parser struct {
	name, q  string
	toks     []tok
	i        int
	warnings []Diagnostic
	norm     *normalizer
	depth    int
	mistyped *Diagnostic  // the first mistyped operator (see warnOp)
	quietAt  map[int]bool // offsets of "(" whose group draws no warnings
	quiet    int          // > 0 inside such a group
}

func (p *parser) errAt(off int, format string, args ...any) *Error {
	if off > len(p.q) {
		off = len(p.q)
	}
	return &Error{Rule: p.name, Offset: off, Col: utf8.RuneCountInString(p.q[:off]) + 1, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) warnAt(off int, format string, args ...any) {
	p.warnings = append(p.warnings, Diagnostic{Rule: p.name, Col: utf8.RuneCountInString(p.q[:off]) + 1, Msg: fmt.Sprintf(format, args...)})
}

// warnOp is warnAt for a mistyped operator; the first one is also named in
// an error the rule may have further on, which it often explains.
func (p *parser) warnOp(off int, format string, args ...any) {
	p.warnAt(off, format, args...)
	if p.mistyped == nil {
		d := p.warnings[len(p.warnings)-1]
		p.mistyped = &d
	}
}

func (p *parser) lex() error {
	q := p.q
	i := 0
	for i < len(q) {
		r, size := utf8.DecodeRuneInString(q[i:])
		switch {
		case isSpace(r):
			i += size
		case r == '(':
			p.toks = append(p.toks, tok{kind: tLParen, off: i})
			i += size
		case r == ')':
			p.toks = append(p.toks, tok{kind: tRParen, off: i})
			i += size
		case isQuote(r):
			start := i
			j := i + size
			end := -1
			for j < len(q) {
				r2, s2 := utf8.DecodeRuneInString(q[j:])
				if isQuote(r2) {
					end = j
					j += s2
					break
				}
				j += s2
			}
			if end < 0 {
				return p.errAt(start, "unclosed quote: add the closing \" of this phrase")
			}
			t := tok{kind: tQuote, off: start, text: q[start+size : end]}
			if j < len(q) && q[j] == '~' {
				k := j + 1
				for k < len(q) && q[k] >= '0' && q[k] <= '9' {
					k++
				}
				if k == j+1 {
					return p.errAt(j, "~ after a phrase needs a number of words, like \"peace talks\"~3")
				}
				n, err := strconv.Atoi(q[j+1 : k])
				if err != nil || n > maxNear {
					return p.errAt(j, "~%s is too far: at most %d words apart", q[j+1:k], maxNear)
				}
				t.n, t.hasN = n, true
				j = k
			}
			p.toks = append(p.toks, t)
			i = j
		case r == '-' && i+1 < len(q) && p.startsUnary(q[i+1:]):
			p.toks = append(p.toks, tok{kind: tMinus, off: i})
			i++
		default:
			n, err := p.lexWord(i)
			if err != nil {
				return err
			}
			i = n
		}
	}
	p.toks = append(p.toks, tok{kind: tEOF, off: len(q)})
	return nil
}

// startsUnary reports whether a leading - is the NOT operator: it must be
// directly followed by something that can be negated.
func (p *parser) startsUnary(rest string) bool {
	r, _ := utf8.DecodeRuneInString(rest)
	return !isSpace(r) && r != ')' && r != '-'
}

// lexWord reads a word, operator, field prefix, CASE( or ATLEAST( at i and
// returns the offset after it.
func (p *parser) lexWord(i int) (int, error) {
	q := p.q
	j := i
	for j < len(q) {
		r, size := utf8.DecodeRuneInString(q[j:])
		if isSpace(r) || r == '(' || r == ')' || isQuote(r) {
			break
		}
		if r == ':' && j > i && isFieldName(q[i:j]) && j+1 < len(q) {
			r2, _ := utf8.DecodeRuneInString(q[j+1:])
			if !isSpace(r2) && r2 != ')' {
				name := strings.ToLower(q[i:j])
				if _, ok := fieldByName(name); !ok {
					return 0, p.errAt(i, "unknown field %q: use title, summary, content, feed, author, category or link", q[i:j])
				}
				p.toks = append(p.toks, tok{kind: tField, off: i, text: name})
				return j + 1, nil
			}
		}
		j += size
	}
	w := q[i:j]
	if j < len(q) && q[j] == '(' {
		switch w {
		case "CASE":
			p.toks = append(p.toks, tok{kind: tCase, off: i})
			return j + 1, nil
		case "ATLEAST":
			k := j + 1
			for k < len(q) && (q[k] == ' ' || q[k] == '\t') {
				k++
			}
			ns := k
			for k < len(q) && q[k] >= '0' && q[k] <= '9' {
				k++
			}
			if k == ns {
				return 0, p.errAt(i, "ATLEAST needs a count first, like ATLEAST(2, talks OR negotiations)")
			}
			n, err := strconv.Atoi(q[ns:k])
			if err != nil || n < 1 || n > maxAtLeast {
				return 0, p.errAt(ns, "ATLEAST count must be between 1 and %d", maxAtLeast)
			}
			for k < len(q) && (q[k] == ' ' || q[k] == '\t') {
				k++
			}
			if k >= len(q) || q[k] != ',' {
				return 0, p.errAt(k, "ATLEAST needs a comma after the count, like ATLEAST(2, talks OR negotiations)")
			}
			p.toks = append(p.toks, tok{kind: tAtLeast, off: i, n: n})
			return k + 1, nil
		}
	}
	switch w {
	case "AND":
		p.toks = append(p.toks, tok{kind: tAnd, off: i})
		return j, nil
	case "OR":
		p.toks = append(p.toks, tok{kind: tOr, off: i})
		return j, nil
	case "NOT":
		p.toks = append(p.toks, tok{kind: tNot, off: i})
		return j, nil
	}
	if strings.HasPrefix(w, "NEAR") || strings.HasPrefix(w, "ONEAR") {
		ordered := w[0] == 'O'
		rest := strings.TrimPrefix(strings.TrimPrefix(w, "O"), "NEAR")
		if rest == "" {
			p.toks = append(p.toks, tok{kind: tNear, off: i, n: defaultNear, ordered: ordered})
			return j, nil
		}
		if rest[0] == '/' {
			n, err := strconv.Atoi(rest[1:])
			if err != nil || n < 0 {
				return 0, p.errAt(i, "%s needs a number of words after /, like NEAR/5", w[:len(w)-len(rest)])
			}
			if n > maxNear {
				return 0, p.errAt(i, "%s is too far: NEAR allows at most %d words apart", w, maxNear)
			}
			p.toks = append(p.toks, tok{kind: tNear, off: i, n: n, ordered: ordered, hasN: true})
			return j, nil
		}
	}
	p.warnMistyped(w, i, j)
	p.toks = append(p.toks, tok{kind: tWord, off: i, text: w})
	return j, nil
}

// warnMistyped warns about a word at q[i:j] that looks like an operator
// written in the wrong case or shape (near/5, Near/5, NEAR5, atleast(2, …),
// case(…), Or): it is searched as a word, which is almost never what the
// author meant. The warning names the operator to write instead. A
// parenthesis right after such a word opens a group that the author meant
// as the operator's arguments, so that group draws no warning of its own
// (such as "AND and OR mixed").
func (p *parser) warnMistyped(w string, i, j int) {
	q := p.q
	upper := strings.ToUpper(w)
	if w == upper && (w == "ATLEAST" || w == "CASE") && j < len(q) && q[j] == '(' {
		return // the operator itself (lexWord took it already)
	}
	// what names the word in the message: `lowercase "near/5"`, `"Near/5"`.
	what := strconv.Quote(w)
	if w == strings.ToLower(w) {
		what = "lowercase " + what
	}
	// open is the offset of a "(" after the word and optional blanks, or -1.
	open := j
	for open < len(q) && (q[open] == ' ' || q[open] == '\t') {
		open++
	}
	if open >= len(q) || q[open] != '(' {
		open = -1
	}
	switch upper {
	case "AND", "OR", "NOT":
		p.warnOp(i, "%s is searched as a word; write %s for the operator, or \"%s\" in quotes to search for the word", what, upper, strings.ToLower(w))
		return
	case "ATLEAST":
		if open < 0 {
			p.warnOp(i, "%s is searched as a word; the operator is written ATLEAST(n, words), like ATLEAST(2, talks OR negotiations)", what)
			return
		}
		n := "n"
		k := open + 1
		for k < len(q) && (q[k] == ' ' || q[k] == '\t') {
			k++
		}
		if d := k; d < len(q) && q[d] >= '0' && q[d] <= '9' {
			for d < len(q) && q[d] >= '0' && q[d] <= '9' {
				d++
			}
			n = q[k:d]
		}
		p.warnGroup(i, w, open, "ATLEAST("+n+", …)")
		return
	case "CASE":
		if open < 0 {
			return // "case" is an ordinary word
		}
		p.warnGroup(i, w, open, "CASE(…)")
		return
	}
	// NEAR and ONEAR in any case: bare, with /n, or with n but no slash.
	op := ""
	for _, name := range []string{"ONEAR", "NEAR"} {
		if strings.HasPrefix(upper, name) {
			op = name
			break
		}
	}
	if op == "" {
		return
	}
	digits := strings.TrimPrefix(w[len(op):], "/")
	if strings.Trim(digits, "0123456789") != "" {
		return // "nearly", "nearby", "Nearest": ordinary words
	}
	fix := op
	if digits != "" {
		fix += "/" + digits
	}
	p.warnOp(i, "%s is searched as a word; write %s for the operator", what, fix)
}

// warnGroup warns about an operator word w at i written in the wrong case
// or with blanks before its parenthesis at open, and quiets that group.
func (p *parser) warnGroup(i int, w string, open int, fix string) {
	written := p.q[i : open+1]
	what := strconv.Quote(written)
	if w == strings.ToLower(w) {
		what = "lowercase " + what
	}
	if w == strings.ToUpper(w) {
		p.warnOp(i, "%s is searched as the word %q and a group; write %s, with no space before the parenthesis", what, w, fix)
	} else {
		p.warnOp(i, "%s is searched as the word %q and a group; write %s for the operator", what, w, fix)
	}
	p.quietGroup(open)
}

// quietGroup marks the group opened by the parenthesis at offset off as
// one whose own warnings would mislead (see warnMistyped).
func (p *parser) quietGroup(off int) {
	if p.quietAt == nil {
		p.quietAt = map[int]bool{}
	}
	p.quietAt[off] = true
}

func isFieldName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

// --- parser ---

func (p *parser) peek() tok { return p.toks[p.i] }
func (p *parser) next() tok {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

func startsPrimary(k tkind) bool {
	switch k {
	case tWord, tQuote, tLParen, tNot, tMinus, tField, tCase, tAtLeast:
		return true
	}
	return false
}

func (p *parser) parse() (*node, error) {
	if err := p.lex(); err != nil {
		return nil, err
	}
	if p.peek().kind == tEOF {
		return nil, p.errAt(0, "empty rule: write at least one word or \"phrase\"")
	}
	n, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		if t.kind == tRParen {
			return nil, p.errAt(t.off, "unbalanced parentheses: this ) has no matching (")
		}
		return nil, p.errAt(t.off, "unexpected %s", p.describe(t))
	}
	return n, nil
}

func (p *parser) describe(t tok) string {
	switch t.kind {
	case tEOF:
		return "end of rule"
	case tAnd:
		return "AND"
	case tOr:
		return "OR"
	case tNear:
		if t.ordered {
			return "ONEAR"
		}
		return "NEAR"
	case tRParen:
		return ")"
	}
	return strconv.Quote(p.q[t.off:min(len(p.q), t.off+20)])
}

func (p *parser) enter(off int) error {
	p.depth++
	if p.depth > maxNestDepth {
		return p.errAt(off, "rule is nested too deeply (more than %d levels)", maxNestDepth)
	}
	return nil
}

func (p *parser) parseOr() (*node, error) {
	if err := p.enter(p.peek().off); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	start := p.peek().off
	first, multi, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	if p.peek().kind != tOr {
		return first, nil
	}
	or := &node{kind: kOr, off: start, kids: []*node{first}}
	mixed := multi
	firstOr := p.peek().off
	for p.peek().kind == tOr {
		t := p.next()
		if !startsPrimary(p.peek().kind) {
			return nil, p.errAt(t.off, "OR needs a word, phrase or group after it")
		}
		k, m, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		mixed = mixed || m
		or.kids = append(or.kids, k)
	}
	if mixed && p.quiet == 0 {
		p.warnAt(firstOr, "AND and OR mixed without parentheses: AND binds tighter, so \"a b OR c\" means \"(a AND b) OR c\"; add parentheses to say which you mean")
	}
	return or, nil
}

// parseAnd returns the AND of its operands and whether there was more than one.
func (p *parser) parseAnd() (*node, bool, error) {
	t := p.peek()
	switch t.kind {
	case tAnd, tOr:
		return nil, false, p.errAt(t.off, "%s needs a word, phrase or group before it", p.describe(t))
	case tNear:
		return nil, false, p.errAt(t.off, "%s needs a word or phrase before it", p.describe(t))
	}
	first, err := p.parseUnary()
	if err != nil {
		return nil, false, err
	}
	kids := []*node{first}
	for {
		t := p.peek()
		if t.kind == tAnd {
			p.next()
			if !startsPrimary(p.peek().kind) {
				return nil, false, p.errAt(t.off, "AND needs a word, phrase or group after it")
			}
		} else if !startsPrimary(t.kind) {
			break
		}
		k, err := p.parseUnary()
		if err != nil {
			return nil, false, err
		}
		kids = append(kids, k)
	}
	if len(kids) == 1 {
		return first, false, nil
	}
	return &node{kind: kAnd, off: first.off, kids: kids}, true, nil
}

func (p *parser) parseUnary() (*node, error) {
	t := p.peek()
	if t.kind == tNot || t.kind == tMinus {
		p.next()
		if !startsPrimary(p.peek().kind) {
			return nil, p.errAt(t.off, "NOT needs a word, phrase or group after it")
		}
		if err := p.enter(t.off); err != nil {
			return nil, err
		}
		k, err := p.parseUnary()
		p.depth--
		if err != nil {
			return nil, err
		}
		return &node{kind: kNot, off: t.off, kids: []*node{k}}, nil
	}
	return p.parseNear()
}

func (p *parser) parseNear() (*node, error) {
	left, err := p.parsePrimary()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tNear {
		t := p.next()
		name := p.describe(t)
		if !startsPrimary(p.peek().kind) || p.peek().kind == tNot || p.peek().kind == tMinus {
			return nil, p.errAt(t.off, "%s needs a word, phrase or OR-group after it", name)
		}
		right, err := p.parsePrimary()
		if err != nil {
			return nil, err
		}
		for _, k := range []*node{left, right} {
			if !k.positional() {
				return nil, p.errAt(k.off, "%s works on words, phrases and OR-groups of them; AND, NOT and ATLEAST cannot be NEAR something", name)
			}
		}
		left = &node{kind: kNear, off: left.off, kids: []*node{left, right}, n: t.n, ordered: t.ordered}
	}
	return left, nil
}

func (p *parser) parsePrimary() (*node, error) {
	t := p.next()
	switch t.kind {
	case tField:
		if !startsPrimary(p.peek().kind) || p.peek().kind == tNot || p.peek().kind == tMinus {
			return nil, p.errAt(t.off, "%s: needs a word, phrase or group right after it", t.text)
		}
		if err := p.enter(t.off); err != nil {
			return nil, err
		}
		n, err := p.parsePrimary()
		p.depth--
		if err != nil {
			return nil, err
		}
		f, _ := fieldByName(t.text)
		setScope(n, fieldMask(1)<<f)
		n.off = t.off
		return n, nil
	case tWord:
		return p.wordNode(t, modeStem)
	case tQuote:
		return p.phraseNode(t, modeExact)
	case tLParen:
		if p.peek().kind == tRParen {
			return nil, p.errAt(t.off, "empty parentheses")
		}
		if p.quietAt[t.off] {
			p.quiet++
			defer func() { p.quiet-- }()
		}
		n, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if p.peek().kind != tRParen {
			return nil, p.errAt(t.off, "unbalanced parentheses: this ( is never closed")
		}
		p.next()
		n.off = t.off
		return n, nil
	case tCase:
		a := p.next()
		var n *node
		var err error
		switch a.kind {
		case tWord:
			if strings.ContainsRune(a.text, '*') {
				return nil, p.errAt(a.off, "CASE() takes a word or \"phrase\", not a wildcard")
			}
			n, err = p.wordNode(a, modeCased)
		case tQuote:
			n, err = p.phraseNode(a, modeCased)
		default:
			return nil, p.errAt(t.off, "CASE( needs one word or \"phrase\", like CASE(\"TED\")")
		}
		if err != nil {
			return nil, err
		}
		if p.peek().kind != tRParen {
			return nil, p.errAt(t.off, "CASE( needs a closing ) after its word or phrase")
		}
		p.next()
		n.off = t.off
		return n, nil
	case tAtLeast:
		if !startsPrimary(p.peek().kind) {
			return nil, p.errAt(t.off, "ATLEAST(%d, needs words after the comma", t.n)
		}
		k, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if p.peek().kind != tRParen {
			return nil, p.errAt(t.off, "unbalanced parentheses: ATLEAST( is never closed")
		}
		p.next()
		if !k.positional() {
			return nil, p.errAt(k.off, "ATLEAST counts words and phrases (or OR-groups of them), not AND or NOT")
		}
		return &node{kind: kAtLeast, off: t.off, kids: []*node{k}, n: t.n}, nil
	case tRParen:
		return nil, p.errAt(t.off, "unbalanced parentheses: this ) has no matching (")
	case tEOF:
		return nil, p.errAt(t.off, "rule ends where a word, phrase or group was expected")
	default:
		return nil, p.errAt(t.off, "expected a word, phrase or group, found %s", p.describe(t))
	}
}

// setScope gives every leaf under n that has no field yet the scope m.
func setScope(n *node, m fieldMask) {
	switch n.kind {
	case kSeq, kPrefix:
		if n.scope == 0 {
			n.scope = m
		}
	default:
		for _, k := range n.kids {
			setScope(k, m)
		}
	}
}

// wordNode builds the node for a bare word (or CASE(word)).
func (p *parser) wordNode(t tok, m mode) (*node, error) {
	w := t.text
	if star := strings.IndexByte(w, '*'); star >= 0 {
		if star != len(w)-1 {
			return nil, p.errAt(t.off+star, "wildcard * is allowed only at the end of a word")
		}
		base := w[:star]
		letters := 0
		for _, r := range base {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				letters++
			}
		}
		if letters < minPrefix {
			return nil, p.errAt(t.off, "wildcard %q is too short: write at least %d letters before *", w, minPrefix)
		}
		toks := analyzeWords(p.norm, base)
		if len(toks) != 1 {
			return nil, p.errAt(t.off, "wildcard %q must be a single word (no punctuation inside)", w)
		}
		return &node{kind: kPrefix, off: t.off, prefix: toks[0].exact, src: w}, nil
	}
	units := p.units(w)
	if len(units) == 0 {
		return nil, p.errAt(t.off, "%q has no letters or digits to search for", w)
	}
	return &node{kind: kSeq, off: t.off, mode: m, units: units, src: w}, nil
}

// phraseNode builds the node for a quoted phrase; "a b"~n becomes
// a NEAR/n b.
func (p *parser) phraseNode(t tok, m mode) (*node, error) {
	var units []unit
	var perWord [][]unit
	for _, w := range strings.Fields(t.text) {
		u := p.units(w)
		if len(u) > 0 {
			perWord = append(perWord, u)
			units = append(units, u...)
		}
	}
	if len(units) == 0 {
		return nil, p.errAt(t.off, "empty phrase: put words between the quotes")
	}
	if !t.hasN {
		return &node{kind: kSeq, off: t.off, mode: m, units: units, src: t.text}, nil
	}
	if len(perWord) == 1 {
		p.warnAt(t.off, "~%d has no effect on a single word", t.n)
		return &node{kind: kSeq, off: t.off, mode: m, units: units, src: t.text}, nil
	}
	var n *node
	for _, u := range perWord {
		k := &node{kind: kSeq, off: t.off, mode: m, units: u, src: t.text}
		if n == nil {
			n = k
			continue
		}
		n = &node{kind: kNear, off: t.off, kids: []*node{n, k}, n: t.n}
	}
	return n, nil
}

func mapDash(r rune) rune {
	if mapPunct(r) == '-' {
		return '-'
	}
	return r
}

// units splits one whitespace-free word of a rule into units. A hyphenated
// word is one unit with two alternatives: its parts in a row, or joined.
func (p *parser) units(w string) []unit {
	w = strings.Map(mapDash, w)
	if strings.IndexByte(w, '-') >= 0 {
		var segs []string
		for _, s := range strings.Split(w, "-") {
			if hasWordChar(s) {
				segs = append(segs, s)
			}
		}
		if len(segs) >= 2 {
			var parts []token
			for _, s := range segs {
				parts = append(parts, analyzeWords(p.norm, s)...)
			}
			joined := analyzeWords(p.norm, strings.Join(segs, ""))
			if len(parts) > 0 && len(joined) > 0 {
				return []unit{{alts: [][]token{parts, joined}}}
			}
		}
	}
	var us []unit
	for _, t := range analyzeWords(p.norm, w) {
		us = append(us, unit{alts: [][]token{{t}}})
	}
	return us
}
