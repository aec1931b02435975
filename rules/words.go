package rules

// Words returns the normalised word forms of a field, in order: the same
// exact forms a quoted rule word matches (case-folded, Latin accents
// stripped, Arabic-script letter variants unified, possessives removed).
// It is a read-only view for other packages that need the rules' text
// analysis (story grouping, for one); the slice is new on every call.
func (a *Analyzed) Words(f Field) []string {
	if f >= numFields {
		return nil
	}
	toks := a.fields[f].toks
	out := make([]string, len(toks))
	for i := range toks {
		out[i] = a.forms[toks[i].form].key
	}
	return out
}

// Stems returns the stems of a field's words, in order: the forms a bare
// rule word matches (English inflections reduced; words in other scripts
// are their own stem). The slice is new on every call.
func (a *Analyzed) Stems(f Field) []string {
	if f >= numFields {
		return nil
	}
	toks := a.fields[f].toks
	out := make([]string, len(toks))
	for i := range toks {
		out[i] = a.forms[a.forms[toks[i].form].stemOf].key
	}
	return out
}

// CasedWords returns a field's words as CASE() matches them, in order: the
// text's own letters (Unicode NFKC, punctuation mapped, possessives
// removed) with their case and accents kept. The slice is new on every call.
func (a *Analyzed) CasedWords(f Field) []string {
	if f >= numFields {
		return nil
	}
	out := make([]string, len(a.fields[f].toks))
	for i := range out {
		out[i] = a.casedOf(f, int32(i))
	}
	return out
}
