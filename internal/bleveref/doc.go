// Package bleveref checks the Boolean semantics of the rules package
// against Bleve, an independent search engine: random rules in the part of
// the rule language Bleve can express, and a few hand-written ones, must
// match exactly the same news items in both. It is a module of its own so
// that Bleve and its two dozen dependencies stay out of Wirewatch's go.mod:
// nothing here is linked into the binary.
//
//	cd internal/bleveref && go test ./...                     (80 rules)
//	cd internal/bleveref && WIREWATCH_FULL=1 go test ./...    (300 rules)
//
// The test is black-box: it uses only rules' exported API. Each rule is
// generated as a small syntax tree that is written out as a query for
// rules.Compile and, independently, translated into Bleve query objects
// from the language's documented meaning (a bare word matches its stem, a
// quoted word or phrase its exact forms, CASE() its cased forms, word* a
// prefix of an exact form, a-b the parts in a row or joined, field:(...)
// scopes what is inside). Items are indexed pre-analysed by rules.Analyze
// (Stems, Words and CasedWords per field), so the test compares query
// semantics, not tokenisers.
//
// Not covered, because Bleve cannot say them exactly: NEAR/ONEAR and
// "phrase"~n (Bleve has no word-distance proximity query), ATLEAST (Bleve's
// disjunction minimum counts distinct clauses, not occurrences), and the
// category field (Bleve does not keep the gap between categories, so a
// phrase could span two of them). The rules package checks those against
// its reference evaluator (rules/differential_test.go).
package bleveref
