package rules

import (
	"os"
	"strings"
	"testing"
)

// The two rules for the reference article's topics, as they appear in
// config.example.toml and the README.
const (
	ruleCrossBorderStrikes = `(Pakistan OR Afghanistan OR Afghan OR Taliban OR Kabul OR Islamabad)
AND ((strike OR airstrike OR "air strike") NEAR/10 (cross-border OR border OR "deep into" OR territory OR soil))
AND (military OR army OR terror* OR retaliat* OR attack OR defence OR defense)
NOT (strike-rate OR cricket OR wicket* OR "on strike" OR workers OR wages OR transporters OR labour OR labor OR walkout)`

	ruleTalksCollapse = `(talks OR negotiations OR dialogue OR "peace process")
NEAR/8 (fail* OR collapse OR "broke down" OR stall OR deadlock OR "no breakthrough" OR "workable solution")
AND (Pakistan OR Afghanistan OR Afghan OR Taliban OR Kabul OR Islamabad)
NOT (IMF OR "monetary fund" OR bailout OR workers OR wages OR transporters OR cricket)`
)

// Hard negatives: stories that share words with the two topics but are not
// about them.
var (
	cricketStory = Document{
		Title: "Gurbaz's blistering strike rate powers Afghanistan past Pakistan",
		Content: `Rahmanullah Gurbaz struck 80 off 45 balls at a strike rate of 177 as Afghanistan beat Pakistan by six wickets in Sharjah on Sunday.
Pakistan's bowlers failed to strike early, and the Afghan openers attacked from the first over, clearing the boundary rope eight times.
"We were not able to take wickets in the powerplay and that was the difference," the Pakistan captain said. Talks about the team's
batting order will continue before the series moves to Lahore.`,
	}
	labourStrikeStory = Document{
		Title: "Transporters' strike at Torkham border crossing halts Pakistan-Afghanistan trade",
		Content: `Goods transporters and labourers went on strike at the Torkham border crossing on Monday, leaving hundreds of trucks bound for
Afghanistan stranded on the Pakistani side. Workers demanded higher wages and the withdrawal of new customs rules that they say
were imposed without consultation. Talks between the transporters' association and customs officials in Peshawar failed to
end the strike, and traders in Khyber warned of losses. The strike also affected the movement of fruit from Afghan territory.`,
	}
	imfStory = Document{
		Title: "IMF talks fail to unlock Pakistan's next loan tranche",
		Content: `Talks between Pakistan and the International Monetary Fund failed to reach a staff-level agreement on Friday, leaving
the next tranche of the bailout on hold. Islamabad said negotiations on the budget would continue virtually, while the
Fund's mission chief said the talks had stalled over revenue targets.`,
	}
)

func referenceArticle(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/reference-article.txt")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestReferenceArticleRules(t *testing.T) {
	strikes, err := Compile("Cross-border strikes", ruleCrossBorderStrikes)
	if err != nil {
		t.Fatal(err)
	}
	talks, err := Compile("Talks collapse", ruleTalksCollapse)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*Rule{strikes, talks} {
		if w := r.Warnings(); len(w) > 0 {
			t.Errorf("%s: unexpected warnings %v", r.Name(), w)
		}
	}
	article := referenceArticle(t)
	ix := NewIndex([]*Rule{strikes, talks})

	cases := []struct {
		name          string
		doc           Document
		strike, talks bool
	}{
		{"reference article as content", Document{Content: article}, true, true},
		{"reference article with a headline", Document{Title: "Pakistan will strike 'deep into Afghanistan' if attacked, says Asif", Summary: strings.SplitN(article, "\n", 2)[0], Content: article}, true, true},
		{"reference article as HTML", Document{Content: "<p>" + strings.ReplaceAll(article, "\n\n", "</p><p>") + "</p>", HTML: true}, true, true},
		{"cricket strike rate against Afghanistan", cricketStory, false, false},
		{"labour strike at a border crossing", labourStrikeStory, false, false},
		{"IMF talks fail", imfStory, false, false},
		{"IMF talks fail, headline only", Document{Title: "Pakistan IMF talks fail"}, false, false},
		{"strike on the border, no Pakistan", Document{Title: "Israeli strike near Lebanon border kills two, army says"}, false, false},
		{"airstrike across the border", Document{Title: "Pakistani airstrikes hit militant hideouts across the border in Afghanistan, military says"}, true, false},
		{"talks broke down", Document{Title: "Pakistan-Afghanistan talks broke down in Istanbul"}, false, true},
	}
	for _, c := range cases {
		a := Analyze(c.doc)
		_, gotS := strikes.Match(a)
		_, gotT := talks.Match(a)
		if gotS != c.strike || gotT != c.talks {
			t.Errorf("%s: Cross-border strikes=%v (want %v), Talks collapse=%v (want %v)", c.name, gotS, c.strike, gotT, c.talks)
		}
		var names []string
		for _, m := range ix.Match(a) {
			names = append(names, m.Rule.Name())
		}
		var want []string
		if c.strike {
			want = append(want, "Cross-border strikes")
		}
		if c.talks {
			want = append(want, "Talks collapse")
		}
		if strings.Join(names, ",") != strings.Join(want, ",") {
			t.Errorf("%s: index matched %v, want %v", c.name, names, want)
		}
	}

	// The spans show an editor why: the strike deep into Afghanistan, the
	// talks that failed.
	a := Analyze(Document{Content: article})
	spans, _ := strikes.Match(a)
	text, marks := Snippet(a, spans, 200)
	if !containsMarked(text, marks, "strike") || !containsMarked(text, marks, "deep into") {
		t.Errorf("strike snippet %q marks %v", text, marksText(text, marks))
	}
	spans, _ = talks.Match(a)
	text, marks = Snippet(a, spans, 200)
	t.Logf("talks snippet %q %q", text, marksText(text, marks))
	if !containsMarked(text, marks, "talks") {
		t.Errorf("talks snippet %q marks %v", text, marksText(text, marks))
	}
}

func marksText(text string, marks [][2]int) []string {
	var out []string
	for _, m := range marks {
		out = append(out, text[m[0]:m[1]])
	}
	return out
}

func containsMarked(text string, marks [][2]int, s string) bool {
	for _, m := range marksText(text, marks) {
		if strings.EqualFold(m, s) {
			return true
		}
	}
	return false
}

// TestRuleExamples runs rule examples the way `check` does: each example
// text is the title of a document, analysed like an item.
func TestRuleExamples(t *testing.T) {
	for _, c := range []struct {
		name, query         string
		examples, counterex []string
	}{
		{"Cross-border strikes", ruleCrossBorderStrikes,
			[]string{
				"Pakistan will strike deep into Afghanistan if attacked, Asif warns Taliban",
				"Pakistani airstrikes hit militant hideouts across the border in Afghanistan, military says",
			},
			[]string{
				"Gurbaz's strike rate powers Afghanistan past Pakistan in the T20 opener",
				"Transporters' strike halts trade at Pakistan-Afghanistan border crossing",
				"Pakistan's IMF talks fail to unlock next loan tranche",
			}},
		{"Talks collapse", ruleTalksCollapse,
			[]string{
				"Pakistan-Afghanistan talks in Istanbul collapse without agreement, Taliban blamed",
				"Pakistan-Afghanistan talks in Istanbul fail to produce a deal",
				"Collapse of negotiations between Kabul and Islamabad",
				"Taliban and Pakistan: dialogue stalled again",
			},
			[]string{
				"Pakistan's IMF talks fail to unlock next loan tranche",
				"IMF talks fail",
				"Pakistan signs trade deal with Afghanistan",
				"Talks fail in Geneva",
				"Gurbaz's strike rate powers Afghanistan past Pakistan in the T20 opener",
			}},
	} {
		r, err := Compile(c.name, c.query)
		if err != nil {
			t.Fatal(err)
		}
		for _, ex := range c.examples {
			if _, ok := r.Match(Analyze(Document{Title: ex})); !ok {
				t.Errorf("%s: example %q does not match", c.name, ex)
			}
		}
		for _, ex := range c.counterex {
			if _, ok := r.Match(Analyze(Document{Title: ex})); ok {
				t.Errorf("%s: counterexample %q matches", c.name, ex)
			}
		}
	}
}
