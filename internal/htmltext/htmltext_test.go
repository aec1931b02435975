package htmltext

import "testing"

func TestPlain(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"  plain   text\n with  spaces ", "plain text with spaces"},
		{"<p>Defence Minister <b>Khawaja</b> Asif</p><p>warned</p>", "Defence Minister Khawaja Asif warned"},
		{"<b>Paki</b>stan", "Pakistan"},                                         // inline: one word
		{"Islamabad<br>Kabul<br/>Doha", "Islamabad Kabul Doha"},                 // block and self-closing: a space
		{"AT&amp;T &lt;b&gt; &#8220;deep&#8221; &eacute;", "AT&T <b> “deep” é"}, // entities decoded once
		{`<script>alert("x")</script>after<style>p{}</style>`, "after"},
		{"<noscript>no</noscript><template><p>t</p></template>kept", "kept"},
		{"</script>stray end tag", "stray end tag"},
		{"<p>unclosed <a href='x'>link", "unclosed link"},
		{"a < b and c > d", "a < b and c > d"},
	} {
		if got := Plain(c.in); got != c.want {
			t.Errorf("Plain(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func FuzzPlain(f *testing.F) {
	f.Add("<p>Defence Minister <b>Khawaja</b> Asif</p>")
	f.Add("<script>x</script>&amp;")
	f.Fuzz(func(t *testing.T, s string) {
		out := Plain(s)
		if out != collapseSpace(out) {
			t.Fatalf("Plain(%q) = %q: white space not collapsed", s, out)
		}
		if len(out) > 4*len(s)+16 {
			t.Fatalf("Plain(%q) grew to %d bytes", s, len(out))
		}
	})
}
