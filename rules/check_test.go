package rules

import "testing"

func TestCheckExamples(t *testing.T) {
	r, err := Compile("strikes", `strike* AND "deep into Afghanistan"`)
	if err != nil {
		t.Fatal(err)
	}
	ps := CheckExamples(r,
		[]string{"Pakistan will strike deep into Afghanistan", "Talks collapse in Istanbul"},
		[]string{"Strikes deep into Afghanistan, minister warns", "Cricket: Afghanistan strike back"})
	if len(ps) != 2 {
		t.Fatalf("problems %v", ps)
	}
	if ps[0].Counter || ps[0].Index != 1 || ps[0].String() != `example does not match: "Talks collapse in Istanbul"` {
		t.Errorf("first: %+v %s", ps[0], ps[0])
	}
	if !ps[1].Counter || ps[1].Index != 0 || ps[1].String() != `counterexample matches: "Strikes deep into Afghanistan, minister warns"` {
		t.Errorf("second: %+v %s", ps[1], ps[1])
	}
}
