package rules

import (
	"slices"
	"strings"
	"sync"
	"testing"
)

type matchCase struct {
	name  string
	query string
	doc   Document
	want  bool
}

func title(s string) Document { return Document{Title: s} }

func runMatchCases(t *testing.T, cases []matchCase) {
	t.Helper()
	for _, c := range cases {
		r, err := Compile(c.name, c.query)
		if err != nil {
			t.Errorf("%s: %q: %v", c.name, c.query, err)
			continue
		}
		a := Analyze(c.doc)
		spans, got := r.Match(a)
		if got != c.want {
			t.Errorf("%s: %q on %+v: got %v, want %v", c.name, c.query, c.doc, got, c.want)
			continue
		}
		if got && len(spans) == 0 {
			t.Errorf("%s: matched without spans", c.name)
		}
		// The index must agree with the single rule.
		ms := NewIndex([]*Rule{r}).Match(a)
		if (len(ms) == 1) != c.want {
			t.Errorf("%s: index got %d matches, want %v", c.name, len(ms), c.want)
		}
	}
}

func TestOperators(t *testing.T) {
	runMatchCases(t, []matchCase{
		// words, juxtaposition, AND
		{"word", `Pakistan`, title("Pakistan and Afghanistan"), true},
		{"word absent", `India`, title("Pakistan and Afghanistan"), false},
		{"juxtaposition is AND", `Pakistan Afghanistan`, title("Afghanistan, then Pakistan"), true},
		{"juxtaposition needs both", `Pakistan India`, title("Pakistan and Afghanistan"), false},
		{"AND", `Pakistan AND Afghanistan`, title("Pakistan and Afghanistan"), true},
		{"AND needs both", `Pakistan AND India`, title("Pakistan and Afghanistan"), false},
		// OR and precedence
		{"OR", `India OR Afghanistan`, title("Pakistan and Afghanistan"), true},
		{"OR neither", `India OR Iran`, title("Pakistan and Afghanistan"), false},
		{"AND binds tighter than OR", `India AND Iran OR Pakistan`, title("Pakistan"), true},
		{"AND binds tighter than OR (2)", `Pakistan OR India AND Iran`, title("India"), false},
		{"parentheses", `(Pakistan OR India) AND Iran`, title("Pakistan"), false},
		{"parentheses (2)", `(Pakistan OR India) AND Iran`, title("India Iran"), true},
		// NOT
		{"NOT", `Pakistan NOT cricket`, title("Pakistan cricket team"), false},
		{"NOT absent", `Pakistan NOT cricket`, title("Pakistan army"), true},
		{"minus", `Pakistan -cricket`, title("Pakistan cricket team"), false},
		{"AND NOT", `Pakistan AND NOT cricket`, title("Pakistan army"), true},
		{"NOT binds tighter than AND", `Pakistan NOT cricket AND army`, title("Pakistan army"), true},
		{"NOT group", `Pakistan NOT (cricket OR hockey)`, title("Pakistan hockey"), false},
		{"NOT before a positive", `NOT cricket Pakistan`, title("Pakistan"), true},
		{"hyphen inside a word is not NOT", `Pakistan-Afghanistan`, title("the Pakistan-Afghanistan border"), true},
		// phrases
		{"phrase", `"deep into Afghanistan"`, title("would strike deep into Afghanistan"), true},
		{"phrase order", `"Afghanistan into deep"`, title("would strike deep into Afghanistan"), false},
		{"phrase adjacency", `"deep Afghanistan"`, title("deep into Afghanistan"), false},
		{"phrase across punctuation", `"deep into Afghanistan"`, title("deep into “Afghanistan”"), true},
		{"phrase is exact", `"peace talk"`, title("peace talks"), false},
		{"phrase does not span fields", `"Pakistan Afghanistan"`, Document{Title: "Pakistan", Summary: "Afghanistan"}, false},
		{"phrase slop", `"talks failed"~3`, title("talks in Istanbul have failed"), true},
		{"phrase slop too far", `"talks failed"~1`, title("talks in Istanbul have failed"), false},
		{"phrase slop any order", `"talks failed"~3`, title("failed: the talks"), true},
		// stemming and exact forms
		{"stem plural", `strike`, title("Pakistan threatens strikes"), true},
		{"stem -ing", `strike`, title("striking deep"), true},
		{"irregular struck", `strike`, title("Pakistan struck militant hideouts"), true},
		{"irregular from the other side", `struck`, title("Pakistan to strike"), true},
		{"irregular broke", `break`, title("talks broke down"), true},
		{"irregular fought", `fight`, title("they fought for years"), true},
		{"quoted word is exact", `"strike"`, title("Pakistan threatens strikes"), false},
		{"quoted word exact hit", `"strikes"`, title("Pakistan threatens strikes"), true},
		{"possessive", `Pakistan`, title("Pakistan’s army chief"), true},
		{"quoted possessive", `"Pakistan's"`, title("Pakistan’s army chief"), true},
		// wildcards
		{"prefix", `negotiat*`, title("negotiations resume"), true},
		{"prefix word itself", `strik*`, title("strike"), true},
		{"prefix other word", `strik*`, title("a strong stride"), false},
		{"prefix case", `strik*`, title("STRIKERS"), true},
		// NEAR / ONEAR
		{"NEAR default 5", `strike NEAR Afghanistan`, title("strike deep into the heart of Afghanistan"), true},
		{"NEAR default too far", `strike NEAR Afghanistan`, title("strike deep into the very heart of Afghanistan"), false},
		{"NEAR/n", `talks NEAR/2 fail*`, title("talks have now failed"), true},
		{"NEAR/n too far", `talks NEAR/1 fail*`, title("talks have now failed"), false},
		{"NEAR either order", `fail* NEAR/2 talks`, title("talks have now failed"), true},
		{"NEAR/0 adjacent", `talks NEAR/0 failed`, title("failed talks"), true},
		{"ONEAR keeps order", `fail* ONEAR/3 talks`, title("talks have now failed"), false},
		{"ONEAR in order", `talks ONEAR/3 fail*`, title("talks have now failed"), true},
		{"NEAR within one field", `talks NEAR/3 failed`, Document{Title: "talks", Summary: "failed"}, false},
		{"NEAR with groups", `(strike OR attack) NEAR/3 (border OR "deep into")`, title("would attack deep into Afghanistan"), true},
		{"NEAR with phrase", `strike NEAR/2 "deep into Afghanistan"`, title("strike “deep into Afghanistan”"), true},
		{"NEAR chain", `Pakistan NEAR/3 talks NEAR/3 Kabul`, title("Pakistan holds talks with Kabul"), true},
		{"NEAR needs two places", `talks NEAR/3 talks`, title("talks"), false},
		{"NEAR same word twice", `talks NEAR/3 talks`, title("talks about talks"), true},
		// fields
		{"title field", `title:Pakistan`, Document{Title: "Pakistan", Content: "Afghanistan"}, true},
		{"title field miss", `title:Afghanistan`, Document{Title: "Pakistan", Content: "Afghanistan"}, false},
		{"content field", `content:Afghanistan`, Document{Title: "Pakistan", Content: "Afghanistan"}, true},
		{"summary field", `summary:(talks OR negotiations)`, Document{Summary: "negotiations"}, true},
		{"feed field", `feed:Dawn AND Pakistan`, Document{Title: "Pakistan", Feed: "Dawn - Home"}, true},
		{"feed not in default scope", `Dawn`, Document{Title: "Pakistan", Feed: "Dawn"}, false},
		{"author field", `author:"Baqir Sajjad"`, Document{Title: "x", Author: "Baqir Sajjad Syed"}, true},
		{"category field", `category:Pakistan`, Document{Title: "x", Categories: []string{"World", "Pakistan"}}, true},
		{"category phrase stays in one category", `category:"World Pakistan"`, Document{Title: "x", Categories: []string{"World", "Pakistan"}}, false},
		{"link field", `link:dawn`, Document{Title: "x", Link: "https://www.dawn.com/news/1952070"}, true},
		{"link field path", `link:"dawn.com"`, Document{Title: "x", Link: "https://www.dawn.com/news/1952070"}, true},
		{"field is case-insensitive", `TITLE:pakistan`, Document{Title: "Pakistan"}, true},
		{"inner field wins", `title:(Pakistan content:Afghanistan)`, Document{Title: "Pakistan", Content: "Afghanistan"}, true},
		// CASE
		{"CASE", `CASE("TED") talk`, title("TED talk on AI"), true},
		{"CASE miss", `CASE("TED") talk`, title("Ted talks about his dog"), false},
		{"CASE word", `CASE(US) AND sanctions`, title("US sanctions"), true},
		{"CASE word miss", `CASE(US) AND sanctions`, title("sanctions hurt us"), false},
		{"CASE phrase", `CASE("New York Times")`, title("the New York Times reports"), true},
		// ATLEAST
		{"ATLEAST", `ATLEAST(2, talks OR negotiat*)`, title("talks continue; negotiations stall"), true},
		{"ATLEAST short", `ATLEAST(3, talks OR negotiat*)`, title("talks continue; negotiations stall"), false},
		{"ATLEAST counts repeats", `ATLEAST(3, Pakistan)`, Document{Title: "Pakistan", Content: "Pakistan, Pakistan"}, true},
		{"ATLEAST counts in scope", `ATLEAST(2, title:Pakistan)`, Document{Title: "Pakistan", Content: "Pakistan, Pakistan"}, false},
		{"ATLEAST with AND", `ATLEAST(2, talks) AND Kabul`, title("talks, talks in Kabul"), true},
	})
}

func TestNormalisation(t *testing.T) {
	runMatchCases(t, []matchCase{
		// case and accents
		{"case-insensitive", `pakistan`, title("PAKISTAN"), true},
		{"accents: rule with, text without", `Türkiye`, title("Turkiye hosts talks"), true},
		{"accents: Turkish dotted capital I", `Türkiye`, title("TÜRKİYE HOSTS TALKS"), true},
		{"accents: rule without", `Turkiye`, title("Türkiye hosts talks"), true},
		{"accents: French", `Genève`, title("talks in GENEVE"), true},
		{"accents: stroke letters", `Łódź`, title("Lodz"), true},
		{"case fold: sharp s", `Straße`, title("STRASSE"), true},
		// Unicode compatibility forms (NFKC)
		{"NFKC fullwidth", `Pakistan`, title("ＰＡＫＩＳＴＡＮ"), true},
		{"NFKC ligature", `fight`, title("the ﬁght goes on"), true},
		// invisible characters
		{"soft hyphen", `Pakistan`, title("Paki\u00ADstan"), true},
		{"zero-width space", `Pakistan`, title("Paki\u200Bstan"), true},
		{"BOM", `Pakistan`, title("\uFEFFPakistan"), true},
		{"bidi marks", `Pakistan`, title("\u200FPakistan\u200E"), true},
		{"tatweel", `پاکستان`, title("پاکــــستان"), true},
		// dashes and quotes
		{"cross-border, hyphen", `cross-border`, title("cross-border terrorism"), true},
		{"cross-border, space", `cross-border`, title("cross border terrorism"), true},
		{"cross-border, joined", `cross-border`, title("crossborder terrorism"), true},
		{"cross-border, en dash", `cross-border`, title("cross–border terrorism"), true},
		{"cross-border, non-breaking hyphen in the rule", "cross\u2011border", title("cross-border terrorism"), true},
		{"cross-border, inflected", `cross-border`, title("cross-borders"), true},
		{"cross-border in a phrase", `"cross-border terrorism"`, title("crossborder terrorism"), true},
		{"cross-border, other words", `cross-border`, title("cross the border"), false},
		{"curly quotes in the rule", `“deep into Afghanistan”`, title("strike deep into Afghanistan"), true},
		{"curly quotes are still exact", `“deep into Afghanistans”`, title("strike deep into Afghanistan"), false},
		{"curly apostrophe in the text", `"Pakistan's army"`, title("Pakistan’s army"), true},
		// abbreviations and dotted words
		{"abbreviation", `UN`, title("the U.N. said"), true},
		{"dotted domain", `dawn`, title("read it on dawn.com"), true},
		// other scripts: Urdu, Persian, Arabic letter variants
		{"Urdu word", `پاکستان`, title("پاکستان اور افغانستان کے درمیان مذاکرات"), true},
		{"Urdu: Arabic kaf and yeh", `پاکستانی`, title("پاكستاني فوج"), true},
		{"Urdu: Persian forms in the rule, Arabic in text", `ایران`, title("إيران"), true},
		{"Urdu: heh forms", `ہے`, title("یہ ضروری هے"), true},
		{"Urdu: alef with hamza", `افغانستان`, title("أفغانستان"), true},
		{"Urdu: harakat", `مذاکرات`, title("مُذَاکَرَات"), true},
		{"Urdu phrase", `"افغان طالبان"`, title("پاکستان نے افغان طالبان سے کہا"), true},
		{"Urdu different word", `بھارت`, title("پاکستان"), false},
		{"Persian ZWNJ kept", "می\u200cخواهم", title("من می\u200cخواهم"), true},
		// Hindi: combining vowel signs are part of the word and are kept
		{"Hindi word", `भारत`, title("भारत और पाकिस्तान के बीच बातचीत"), true},
		{"Hindi phrase", `"भारत और पाकिस्तान"`, title("भारत और पाकिस्तान के बीच बातचीत"), true},
		{"Hindi matras are not accents", `किसान`, title("कसान"), false},
		{"Hindi matras are not accents (2)", `कसान`, title("किसान आंदोलन"), false},
		{"Hindi with nukta", `ज़िला`, title("ज़िला अदालत"), true},
		// Cyrillic and Han
		{"Russian case", `Россия`, title("РОССИЯ и Китай"), true},
		{"Chinese", `巴基斯坦`, title("巴基斯坦和阿富汗会谈破裂"), true},
		{"Chinese not scattered", `巴基斯坦`, title("巴基和斯坦"), false},
		// HTML
		{"HTML tags and entities", `"deep into Afghanistan"`, Document{Content: "<p>strike <b>deep</b> into &ldquo;Afghanistan&rdquo;</p>", HTML: true}, true},
		{"HTML inline tags join", `"Pakistan's army"`, Document{Content: "<a href=x>Pakistan</a>&rsquo;s <i>army</i>", HTML: true}, true},
		{"HTML block tags separate", `"Pakistan army"`, Document{Content: "<p>Pakistan</p><p>army</p>", HTML: true}, true},
		{"HTML script dropped", `Pakistan`, Document{Content: "<script>var Pakistan = 1</script><p>news</p>", HTML: true}, false},
	})
}

func TestTrickyNegatives(t *testing.T) {
	strikes, _ := Compile("s", ruleCrossBorderStrikes)
	talks, _ := Compile("t", ruleTalksCollapse)
	for _, c := range []struct {
		name string
		doc  Document
	}{
		{"labour strike at a border crossing", labourStrikeStory},
		{"cricket strike rate against Afghanistan", cricketStory},
		{"IMF talks fail", imfStory},
		{"strike-rate written with a hyphen", Document{Title: "Afghanistan's Zadran keeps a strike-rate of 140 against Pakistan at the border of the circle", Content: "Pakistan's attack failed"}},
		{"union strike at Chaman border", Document{Title: "Traders on strike at Chaman border", Content: "Pakistan traders and workers protest new visa rules for Afghan border crossing; talks with officials failed."}},
	} {
		a := Analyze(c.doc)
		if _, ok := strikes.Match(a); ok {
			t.Errorf("%s: Cross-border strikes matches", c.name)
		}
		if _, ok := talks.Match(a); ok {
			t.Errorf("%s: Talks collapse matches", c.name)
		}
	}
}

func TestAnalyzeTokens(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string // exact forms, space-separated
	}{
		{"Pakistan’s cross‑border “strikes”", "pakistan cross border strikes"},
		{"TÜRKİYE, Zürich, São Paulo", "turkiye zurich sao paulo"},
		{"Paki\u00ADstan Paki\u200Bstan", "pakistan pakistan"},
		{"U.S. and dawn.com", "us and dawn com"},
		{"پاكستاني", "پاکستانی"},
		{"किसान", "किसान"},
		{"巴基斯坦", "巴 基 斯 坦"},
		{"ＰＡＫＩＳＴＡＮ ﬁght", "pakistan fight"},
	} {
		a := Analyze(Document{Title: c.in})
		var got []string
		for _, tk := range a.tokens(FieldTitle) {
			got = append(got, tk.exact)
			if txt := a.Text(FieldTitle)[tk.start:tk.end]; txt == "" {
				t.Errorf("%q: empty token text", c.in)
			}
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("Analyze(%q) = %q, want %q", c.in, strings.Join(got, " "), c.want)
		}
	}
	a := Analyze(Document{Title: "<b>Pakistan</b> &amp; Afghanistan", HTML: true})
	if got := a.Text(FieldTitle); got != "Pakistan & Afghanistan" {
		t.Errorf("HTML title text %q", got)
	}
}

func TestCompileErrors(t *testing.T) {
	for _, c := range []struct {
		query string
		col   int
		msg   string
	}{
		{`(Pakistan OR India`, 1, "never closed"},
		{`Pakistan OR India)`, 18, "no matching ("},
		{`Pakistan AND (India OR`, 21, "OR needs"},
		{`"deep into Afghanistan`, 1, "unclosed quote"},
		{`Pakistan “deep into`, 10, "unclosed quote"},
		{`NOT cricket`, 1, "no word that must appear"},
		{`-cricket -hockey`, 1, "no word that must appear"},
		{`Pakistan OR NOT cricket`, 13, "no word that must appear"},
		{`strike NEAR/51 border`, 8, "at most 50"},
		{`"talks failed"~99`, 15, "at most 50"},
		{`ab*`, 1, "at least 3 letters"},
		{`Pakistan AND st*`, 14, "at least 3 letters"},
		{`str*ke`, 4, "only at the end"},
		{`headline:Pakistan`, 1, `unknown field "headline"`},
		{`Pakistan AND`, 10, "AND needs"},
		{`AND Pakistan`, 1, "AND needs a word, phrase or group before"},
		{`OR Pakistan`, 1, "OR needs a word, phrase or group before"},
		{``, 1, "empty rule"},
		{`()`, 1, "empty parentheses"},
		{`""`, 1, "empty phrase"},
		{`Pakistan AND !!!`, 14, "no letters or digits"},
		{`(a AND b) NEAR c`, 1, "NEAR works on words"},
		{`ATLEAST(0, talks)`, 9, "between 1 and"},
		{`ATLEAST(talks)`, 1, "needs a count"},
		{`ATLEAST(2 talks)`, 11, "comma"},
		{`ATLEAST(2, talks -x)`, 12, "ATLEAST counts words"},
		{`CASE(talk*)`, 6, "not a wildcard"},
		{`CASE("TED"`, 1, "closing )"},
		{`talks NEAR`, 7, "NEAR needs"},
		{`Türkiye AND (`, 14, "rule ends"},
		{`Türkiye AND ) x`, 9, "AND needs a word, phrase or group after"},
		{`Türkiye ) x`, 9, "no matching ("},
	} {
		_, err := Compile("Desk rule", c.query)
		e, ok := err.(*Error)
		if !ok {
			t.Errorf("%q: error %v (%T), want *Error", c.query, err, err)
			continue
		}
		if e.Col != c.col || !strings.Contains(e.Msg, c.msg) || e.Rule != "Desk rule" {
			t.Errorf("%q: got %q (col %d), want col %d and %q", c.query, e.Error(), e.Col, c.col, c.msg)
		}
		if !strings.HasPrefix(e.Error(), `rule "Desk rule": column `) {
			t.Errorf("%q: error text %q does not name the rule and column", c.query, e.Error())
		}
	}
}

func TestWarnings(t *testing.T) {
	for _, c := range []struct {
		query string
		want  []string // substrings, one per expected warning
	}{
		{`Pakistan AND Afghanistan`, nil},
		{`(Pakistan AND strike) OR (India AND border)`, nil},
		{`Pakistan AND strike OR India`, []string{"AND and OR mixed"}},
		{`Pakistan strike OR India`, []string{"AND and OR mixed"}},
		{`Pakistan or India`, []string{`lowercase "or"`}},
		{`Pakistan and not cricket`, []string{`lowercase "and"`, `lowercase "not"`}},
		{`the OR Pakistan`, []string{`"the" is a very common word`}},
		{`the AND of`, []string{"very common"}},
		{`"talks"~3`, []string{"no effect"}},
	} {
		r, err := Compile("w", c.query)
		if err != nil {
			t.Errorf("%q: %v", c.query, err)
			continue
		}
		ws := r.Warnings()
		if len(ws) != len(c.want) {
			t.Errorf("%q: warnings %v, want %d", c.query, ws, len(c.want))
			continue
		}
		for i, w := range ws {
			if !strings.Contains(w.Msg, c.want[i]) || w.Col < 1 || w.Rule != "w" {
				t.Errorf("%q: warning %+v, want %q", c.query, w, c.want[i])
			}
		}
	}
	r, _ := Compile("w", `Pakistan or India`)
	if w := r.Warnings(); len(w) == 1 && w[0].Col != 10 {
		t.Errorf("lowercase or: column %d, want 10", w[0].Col)
	}
}

func TestRuleAccessors(t *testing.T) {
	r, err := Compile("Talks", `talks NEAR/3 fail*`)
	if err != nil {
		t.Fatal(err)
	}
	if r.Name() != "Talks" || r.Query() != `talks NEAR/3 fail*` {
		t.Errorf("Name/Query = %q/%q", r.Name(), r.Query())
	}
	if FieldTitle.String() != "title" || FieldLink.String() != "link" || FieldCategory.String() != "category" {
		t.Error("Field.String")
	}
}

func TestIndexOrderAndConcurrency(t *testing.T) {
	var rs []*Rule
	for i, q := range []string{`Pakistan`, `cricket`, `strik*`, `"deep into"`, `Afghanistan NOT Pakistan`, `title:Afghanistan`, `Kabul OR strike`} {
		r, err := Compile(string(rune('a'+i)), q)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	ix := NewIndex(rs)
	if ix.Len() != len(rs) {
		t.Fatalf("Len %d", ix.Len())
	}
	a := Analyze(Document{Title: "Pakistan will strike deep into Afghanistan"})
	want := "a,c,d,f,g"
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				var names []string
				for _, m := range ix.Match(a) {
					names = append(names, m.Rule.Name())
				}
				if got := strings.Join(names, ","); got != want {
					t.Errorf("matched %s, want %s", got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	if ms := NewIndex(nil).Match(a); len(ms) != 0 {
		t.Errorf("empty index matched %v", ms)
	}
}

func TestSpans(t *testing.T) {
	r, _ := Compile("s", `strike NEAR/3 "deep into Afghanistan" NOT cricket`)
	a := Analyze(Document{Title: "Pakistan will strike “deep into Afghanistan”, Asif says"})
	spans, ok := r.Match(a)
	if !ok {
		t.Fatal("no match")
	}
	var got []string
	for _, s := range spans {
		got = append(got, a.Text(s.Field)[s.Start:s.End])
	}
	if strings.Join(got, "|") != "strike|deep into Afghanistan" {
		t.Errorf("spans %q", got)
	}
}

func TestSnippet(t *testing.T) {
	article := referenceArticle(t)
	a := Analyze(Document{Title: "Asif warns Kabul", Content: article})
	r, _ := Compile("s", `content:"workable solution"`)
	spans, _ := r.Match(a)
	text, marks := Snippet(a, spans, 120)
	if n := len([]rune(text)); n > 125 || n < 60 {
		t.Errorf("snippet of %d runes: %q", n, text)
	}
	if !strings.HasPrefix(text, "…") || !strings.HasSuffix(text, "…") {
		t.Errorf("snippet not marked as cut: %q", text)
	}
	if got := marksText(text, marks); len(got) != 1 || got[0] != "workable solution" {
		t.Errorf("marks %q in %q", got, text)
	}
	// Cut on word boundaries: the words at both ends are whole words.
	inner := strings.TrimSuffix(strings.TrimPrefix(text, "…"), "…")
	for _, w := range []string{strings.Fields(inner)[0], strings.Fields(inner)[len(strings.Fields(inner))-1]} {
		if !strings.Contains(article, " "+w) && !strings.Contains(article, w+" ") {
			t.Errorf("snippet cut inside a word: %q", w)
		}
	}
	// The body is preferred when the match is there too (a snippet is shown
	// under the title); the title when the match is only there.
	r, _ = Compile("k", `Kabul`)
	spans, _ = r.Match(a)
	text, marks = Snippet(a, spans, 120)
	if text == "Asif warns Kabul" || !slices.Contains(marksText(text, marks), "Kabul") {
		t.Errorf("body snippet %q %v", text, marksText(text, marks))
	}
	r, _ = Compile("k", `title:Kabul`)
	spans, _ = r.Match(a)
	text, marks = Snippet(a, spans, 120)
	if text != "Asif warns Kabul" || len(marks) != 1 || text[marks[0][0]:marks[0][1]] != "Kabul" {
		t.Errorf("title snippet %q %v", text, marks)
	}
	// No spans: the start of the text.
	text, marks = Snippet(a, nil, 50)
	if !strings.HasSuffix(text, "…") || len(marks) != 0 || strings.HasPrefix(text, "…") {
		t.Errorf("lead snippet %q %v", text, marks)
	}
	// Multibyte text: marks are byte ranges of the snippet.
	a = Analyze(Document{Content: strings.Repeat("پاکستان اور افغانستان کے درمیان ", 20) + "مذاکرات ناکام ہو گئے " + strings.Repeat("خبر ", 30)})
	r, _ = Compile("u", `مذاکرات`)
	spans, _ = r.Match(a)
	text, marks = Snippet(a, spans, 60)
	if got := marksText(text, marks); len(got) != 1 || got[0] != "مذاکرات" {
		t.Errorf("Urdu snippet %q marks %q", text, got)
	}
}

// TestCompactTokensAgree checks that the forms Analyze keeps for each word
// (form ids and offsets, not strings) are those the plain tokenizer gives
// the same text, on every field of every corpus item.
func TestCompactTokensAgree(t *testing.T) {
	docs := append([]corpusDoc(nil), loadCorpus(t)...)
	docs = append(docs, corpusDoc{doc: Document{Title: "It’s O’Brien’s U.S. ‘deal’ `quoted` TED's ПРАВДА's Türkiye’s ﬁght"}})
	n := newNormalizer()
	for _, d := range docs {
		a := Analyze(d.doc)
		for f := Field(0); f < FieldCategory; f++ {
			got := a.tokens(f)
			want := analyzeWords(n, a.Text(f))
			if len(got) != len(want) {
				t.Fatalf("%s: %d tokens, plain tokenizer %d", f, len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s token %d: %+v, plain tokenizer %+v", f, i, got[i], want[i])
				}
			}
		}
	}
}
