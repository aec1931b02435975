// Package rules owns Wirewatch's rule language and matching: turning an item's
// text into normalised, positioned words (Analyze), parsing and checking an
// editor's Boolean rule (Compile), and matching one item against many rules
// at once (Index), with the spans that made each rule match and a snippet to
// show them in (Snippet).
//
// The package is pure: no I/O, no configuration, no logging, no mutable
// package state, and of Wirewatch it imports only internal/htmltext (the HTML
// to text conversion monitor/parse shares), so it can be used as a library. What it remembers between calls lives in values the caller
// holds: an Index (the compiled rules) and an Analyzer (the word forms of
// the text it has read, and analyses given back with Release for reuse).
//
//	ix := rules.NewIndex(compiled)   // rebuild and swap when rules change
//	z := rules.NewAnalyzer()         // one per process
//	a := z.Analyze(rules.Document{Title: title, Content: body, HTML: true})
//	for _, m := range ix.Match(a) {
//		snippet, _ := rules.Snippet(a, m.Spans, 200)
//		fmt.Println(m.Rule.Name(), snippet)
//	}
//	a.Release()                      // optional: reuse a's memory
//
// # Language
//
//	rule      = or_expr
//	or_expr   = and_expr { "OR" and_expr }
//	and_expr  = unary { [ "AND" ] unary }          juxtaposition means AND
//	unary     = [ "NOT" | "-" ] near_expr          "A NOT B" means A AND NOT B
//	near_expr = primary { ("NEAR" | "ONEAR") ["/" n] primary }   default n = 5
//	primary   = [ field ":" ] ( word | word* | "phrase" ["~" n] | "(" or_expr ")"
//	                          | CASE( word | "phrase" ) | ATLEAST( n , or_expr ) )
//	field     = title | summary | content | feed | author | category | link
//
// Precedence, tightest first: NEAR/ONEAR, NOT, AND, OR. A bare word matches
// its English inflections (Snowball stemming plus a table of irregular
// forms); a quoted word or phrase matches that exact form. Everything but
// CASE() is case- and accent-insensitive. The default scope is title,
// summary and content.
//
// # Text
//
// Text is normalised the same way on both sides: Unicode NFKC, invisible
// characters removed (soft hyphen, zero-width space, BOM, bidi marks, Arabic
// tatweel; ZWJ/ZWNJ kept), curly quotes and dashes mapped to ASCII, case
// folded, accents stripped from Latin letters only, Arabic/Persian/Urdu
// letter variants unified, and words split at Unicode (UAX #29) word
// boundaries.
//
// # Matching at scale
//
// Compiling a rule yields clauses that any item it matches must satisfy,
// each a set of terms one of which must occur (for "a AND (b OR c)": {a}
// and {b, c}). An Index files each rule under the terms of its most
// selective clause (its anchors); matching an item looks up the item's
// distinct terms once (marking which rule terms occur, and in which
// fields), keeps the candidate rules whose other clauses the marked terms
// satisfy, and evaluates only those. Evaluation runs on a flat program per
// rule over interned term ids: AND, OR, NOT, single words, wildcards,
// plain phrases and simple ATLEAST are decided from the marked terms and
// their occurrence chains; NEAR, CASE() and hyphenated alternatives fall
// back to the rule's syntax tree on the item's word positions.
// Every match carries its spans. An Index is immutable and safe for
// concurrent use; build a new one and swap it atomically when rules change.
package rules
