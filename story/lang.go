package story

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/arabic"
	"github.com/blevesearch/snowballstem/english"
	"github.com/blevesearch/snowballstem/french"
	"github.com/blevesearch/snowballstem/german"
	"github.com/blevesearch/snowballstem/spanish"
	"github.com/blevesearch/snowballstem/turkish"

	"github.com/wirewatch/wirewatch/rules"
)

// lang is a language the package knows function words (and, for most, a
// stemmer) of. An item's language is guessed from its words (guessLang);
// a word is stemmed and filtered by the rules of its item's language.
type lang uint8

const (
	langOther lang = iota // unknown: words kept as they are
	langEN
	langDE
	langES
	langFR
	langTR
	langAR
	langUR
	langHI
	numLangs
)

var langNames = [numLangs]string{"other", "en", "de", "es", "fr", "tr", "ar", "ur", "hi"}

func (l lang) String() string { return langNames[l] }

// Function words of each language: the common words of the Snowball
// stop-word lists, and of Urdu and Hindi newswriting. They are analysed at
// start with the rules package, so they take exactly the form item words
// take (accents stripped, Arabic-script letter variants unified).
var stopText = [numLangs]string{
	langEN: `a about above after again against all am an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have having he her here hers
herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off on once
only or other our ours ourselves out over own same she should so some such than that the their theirs them themselves
then there these they this those through to too under until up very was we were what when where which while who whom
why will with would you your yours yourself yourselves its it's could also`,
	langDE: `aber alle allem allen aller alles als also am an ander andere anderem anderen anderer anderes anderm andern
anderr anders auch auf aus bei bin bis bist da damit dann das dass daß dasselbe dazu dein deine deinem deinen deiner
deines dem demselben den denn denselben der derer derselbe derselben des desselben dessen dich die dies diese
dieselbe dieselben diesem diesen dieser dieses dir doch dort du durch ein eine einem einen einer eines einig einige
einigem einigen einiger einiges einmal er es etwas euch euer eure eurem euren eurer eures für gegen gewesen hab habe
haben hat hatte hatten hier hin hinter ich ihm ihn ihnen ihr ihre ihrem ihren ihrer ihres im in indem ins ist jede
jedem jeden jeder jedes jene jenem jenen jener jenes jetzt kann kein keine keinem keinen keiner keines können könnte
machen man manche manchem manchen mancher manches mein meine meinem meinen meiner meines mich mir mit muss musste
nach nicht nichts noch nun nur ob oder ohne sehr sein seine seinem seinen seiner seines selbst sich sie sind so
solche solchem solchen solcher solches soll sollte sondern sonst über um und uns unsere unserem unseren unser unseres
unter viel vom von vor während war waren warst was weg weil weiter welche welchem welchen welcher welches wenn werde
werden wie wieder will wir wird wirst wo wollen wollte würde würden zu zum zur zwar zwischen seit
mehr bereits schon worden wurde wurden beim`,
	langES: `de la que el en y a los del se las por un para con no una su al lo como más pero sus le ya o este sí porque
esta entre cuando muy sin sobre también me hasta hay donde quien desde todo nos durante todos uno les ni contra otros
ese eso ante ellos e esto mí antes algunos qué unos yo otro otras otra él tanto esa estos mucho quienes nada muchos
cual poco ella estar estas algunas algo nosotros mi mis tú te ti tu tus ellas nosotras vosotros vosotras os mío mía
míos mías tuyo tuya tuyos tuyas suyo suya suyos suyas nuestro nuestra nuestros nuestras vuestro vuestra vuestros
vuestras esos esas estoy estás está estamos estáis están esté estés estemos estéis estén estaba estaban estuvo fue
fueron ser es son sido era eran será serán sea sean ha han había habían he has hemos haber tiene tienen tenía tener
según tras cada así aunque mientras`,
	langFR: `au aux avec ce ces dans de des du elle en et eux il ils je la le les leur lui ma mais me même mes moi mon ne
nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une vos votre vous c d j l à
m n s t y été étée étées étés étant suis es est sommes êtes sont serai sera serons seront serait seraient étais
était étions étaient fus fut furent sois soit soyons soient ai as avons avez ont aurai aura aurons auront aurait
auraient avais avait avions avaient eu eut eurent ceci cela celà cet cette ici ils les leurs quel quels quelle
quelles sans soi plus selon après avant entre aussi comme tout tous toute toutes
lors depuis contre où dont alors déjà encore très sous chez`,
	langTR: `acaba ama aslında az bazı belki biri birkaç birşey biz bu çok çünkü da daha de defa diye eğer en gibi hem
hep hepsi her hiç için ile ise kez ki kim mı mu mü nasıl ne neden nerde nerede nereye niçin niye o sanki şey siz şu
tüm ve veya ya yani bir olan olarak oldu olduğu olduğunu olmak olması olan ise ayrıca kadar sonra önce göre
ancak tarafından ile bunu bunun buna şunu onun ona onu onlar onların kendi arasında üzerinde karşı değil var yok`,
	langAR: `في من على إلى الى عن مع أن ان إن لا ما هذا هذه ذلك التي الذي الذين كان كانت قد لم لن ثم أو او بين عند
كل بعد قبل حتى أي اي هو هي هم نحن أنا انا وقد وفي ومن وعلى كما أيضا ايضا فيه فيها به بها له لها منه منها عليه
عليها إلى ولا وأن وان وهو وهي لكن بل إذا اذا إلا الا غير يكون تكون خلال حيث منذ أمام امام ضد نحو لدى تم وقال قال
وكان أكثر اكثر حول`,
	langUR: `کے کی کا کو سے میں نے ہے ہیں اور پر کہ کر کیا گیا گئی گئے ہو ہوا ہوئی ہوئے یہ وہ بھی تو جو ایک لیے بعد تک کہا دیا
رہا رہی رہے ساتھ جس ان اس نہیں کوئی جب تھا تھی تھے گا گی گے والے والی والا ہی کسی کہنا کہتے مطابق جانب`,
	langHI: `का की के को से में ने है हैं और पर कि यह वह भी तो जो एक लिए बाद तक कहा दिया गया गई गए था थे थी हो होगी होगा
कर करने करेंगे करेगी करेगा ही साथ बीच इस उस नहीं कोई जब वाले वाली वाला किसी अपने अपनी बताया`,
}

// stops maps each function word (exact form) to the languages it belongs to.
var stops = func() map[string]uint16 {
	m := make(map[string]uint16)
	for l := lang(1); l < numLangs; l++ {
		a := rules.Analyze(rules.Document{Title: stopText[l]})
		for _, w := range a.Words(rules.FieldTitle) {
			m[w] |= 1 << l
		}
	}
	return m
}()

// guessLang guesses an item's language from its words: by script for
// Arabic-script and Devanagari text (Urdu told from Arabic by their
// function words), else by which language's function words it uses most.
func guessLang(words []string) lang {
	var votes [numLangs]int
	arabicScript, deva := 0, 0
	for _, w := range words {
		if m := stops[w]; m != 0 {
			for l := lang(1); l < numLangs; l++ {
				if m&(1<<l) != 0 {
					votes[l]++
				}
			}
		}
		r, _ := utf8.DecodeRuneInString(w)
		switch {
		case unicode.Is(unicode.Arabic, r):
			arabicScript++
		case unicode.Is(unicode.Devanagari, r):
			deva++
		}
	}
	switch {
	case deva > 0 && deva*2 >= len(words):
		return langHI
	case arabicScript > 0 && arabicScript*2 >= len(words):
		if votes[langUR] > votes[langAR] {
			return langUR
		}
		return langAR
	}
	best, bestVotes := langOther, 0
	for _, l := range [...]lang{langEN, langDE, langES, langFR, langTR} {
		if votes[l] > bestVotes {
			best, bestVotes = l, votes[l]
		}
	}
	return best
}

// isStop reports a word that carries no story in language l: a function
// word of l (or of English, which mixes into every language's news), or a
// single letter.
func isStop(l lang, exact string) bool {
	if r, n := utf8.DecodeRuneInString(exact); n == len(exact) && unicode.IsLetter(r) {
		return true
	}
	m := stops[exact]
	return m&(1<<l|1<<langEN) != 0 || (l == langOther && m != 0)
}

// stemmer stems words of one language with its Snowball stemmer. It is
// not safe for concurrent use (it reuses one buffer); make one per call.
type stemmer struct {
	l   lang
	env *snowballstem.Env
	buf strings.Builder
}

func newStemmer(l lang) *stemmer {
	return &stemmer{l: l, env: snowballstem.NewEnv("")}
}

// stem returns the stem of a word: exact is the rules' normalised form
// (accents stripped), cased the word with its letters as written.
func (s *stemmer) stem(exact, cased string) string {
	var stem func(*snowballstem.Env) bool
	w := exact
	switch s.l {
	case langEN:
		stem = english.Stem
	case langDE:
		stem = german.Stem
	case langES:
		stem = spanish.Stem
	case langFR:
		stem = french.Stem
	case langTR:
		// Turkish suffixes follow vowel harmony, which needs the dotless
		// ı and the other Turkish letters: stem the word as written. A
		// proper noun's suffix follows an apostrophe: drop it.
		w = strings.ToLowerSpecial(unicode.TurkishCase, cased)
		if i := strings.IndexAny(w, "'’"); i > 0 {
			return w[:i]
		}
		stem = turkish.Stem
	case langAR:
		// The rules write Arabic yeh and kaf in their Persian/Urdu
		// forms; the Arabic stemmer knows the Arabic ones.
		w = arabicLetters.Replace(exact)
		stem = arabic.Stem
	default:
		return exact
	}
	s.env.SetCurrent(w)
	stem(s.env)
	if out := s.env.Current(); out != "" {
		return out
	}
	return w
}

var arabicLetters = strings.NewReplacer("ی", "ي", "ک", "ك", "ہ", "ه")
