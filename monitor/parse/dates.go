package parse

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/internal/htmltext"
)

// RecoverDate reads a date that gofeed could not: a date wrapped in HTML
// (an HTML <time datetime=...> inside pubDate), with no time zone (taken
// as UTC), with slashes ("2020/1/10 14:33:00"), with weekday and month
// names in Portuguese, Spanish, French, German or Italian, or Unix epoch
// seconds. It refuses what is ambiguous ("01/02/2020": January 2 or
// February 1?) and dates outside 1970..2200: ok is false, and the caller
// uses the time the item was first seen.
func RecoverDate(raw string) (t time.Time, ok bool) {
	s := raw
	if len(s) > 256 {
		return time.Time{}, false
	}
	if strings.ContainsAny(s, "<&") {
		if m := timeAttrRe.FindStringSubmatch(s); m != nil {
			if t, ok := RecoverDate(m[1]); ok {
				return t, true
			}
		}
		s = htmltext.Plain(s)
	}
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return time.Time{}, false
	}
	// Local month and weekday names first: a localized date would
	// otherwise fail every layout before being rewritten.
	if e, changed := englishNames(s); changed {
		if t, ok := parseLayouts(e); ok {
			return t, true
		}
	}
	if t, ok := parseLayouts(s); ok {
		return t, true
	}
	if t, ok := parseEpoch(s); ok {
		return t, true
	}
	if t, ok := parseNumericDMY(s); ok {
		return t, true
	}
	return time.Time{}, false
}

var timeAttrRe = regexp.MustCompile(`(?i)<time[^>]*\bdatetime\s*=\s*["']([^"']+)["']`)

// Layouts with a zone first, then without (taken as UTC).
var dateLayouts = []string{
	time.RFC3339Nano,
	time.RFC3339,
	"2006-01-02T15:04:05-0700",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05-07:00",
	"2006-01-02 15:04:05 -07:00",
	"2006-01-02 15:04:05 MST",
	time.RFC1123Z,
	time.RFC1123,
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 2006 15:04 -0700",
	"Mon, 2 Jan 2006 15:04 MST",
	"2 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04:05 MST",
	"Mon, 2 January 2006 15:04:05 -0700",
	"Mon Jan 2 15:04:05 MST 2006",
	"Mon Jan 2 15:04:05 -0700 2006",
	time.ANSIC,
	// No zone: UTC.
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-1-2 15:04:05",
	"2006-1-2 15:04",
	"2006/1/2 15:04:05",
	"2006/1/2 15:04",
	"2006/1/2",
	"2006-1-2",
	"2006-01-02",
	"2006.1.2 15:04:05",
	"2006.1.2",
	"Mon, 2 Jan 2006 15:04:05",
	"Mon, 2 Jan 2006 15:04",
	"Mon, 2 Jan 2006",
	"2 Jan 2006 15:04:05",
	"2 Jan 2006 15:04",
	"2 Jan 2006",
	"2 January 2006 15:04:05",
	"2 January 2006 15:04",
	"2 January 2006",
	"Mon, 2 January 2006",
	"Monday, 2 January 2006",
	"Jan 2, 2006 15:04:05",
	"Jan 2, 2006 3:04 PM",
	"Jan 2, 2006 15:04",
	"Jan 2, 2006",
	"January 2, 2006 15:04:05",
	"January 2, 2006 3:04 PM",
	"January 2, 2006 15:04",
	"January 2, 2006",
	"Monday, January 2, 2006 3:04 PM",
	"Monday, January 2, 2006",
	"Mon Jan 2 15:04:05 2006",
	"Mon, Jan 2 2006 3:04:05 PM",
	"Mon, Jan 2 2006 15:04:05",
	"Jan 2 2006 3:04:05 PM",
	"Jan 2 2006 15:04:05",
}

// zoneOffsets gives the offsets of the zone abbreviations feeds use; Go's
// parser accepts any abbreviation but cannot know its offset.
var zoneOffsets = map[string]int{
	"UT": 0, "UTC": 0, "GMT": 0, "Z": 0,
	"EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
	"AKST": -9, "AKDT": -8, "HST": -10,
	"BST": 1, "CET": 1, "CEST": 2, "MET": 1, "MEST": 2, "EET": 2, "EEST": 3, "WET": 0, "WEST": 1,
	"MSK": 3, "PKT": 5, "JST": 9, "KST": 9, "AEST": 10, "AEDT": 11,
}

func parseLayouts(s string) (time.Time, bool) {
	for _, layout := range dateLayouts {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		if strings.Contains(layout, "MST") {
			// Go gives an unknown abbreviation a zero offset: only trust
			// the ones we know (IST, for one, is India, Ireland or Israel).
			name, _ := t.Zone()
			h, known := zoneOffsets[strings.ToUpper(name)]
			if !known {
				return time.Time{}, false
			}
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.FixedZone(strings.ToUpper(name), h*3600))
		}
		return sane(t)
	}
	return time.Time{}, false
}

func sane(t time.Time) (time.Time, bool) {
	if t.Year() < 1970 || t.Year() > 2200 {
		return time.Time{}, false
	}
	return t, true
}

// parseEpoch accepts 9 to 10 digits as Unix seconds and 12 to 13 digits as
// milliseconds.
func parseEpoch(s string) (time.Time, bool) {
	if len(s) < 9 || len(s) > 13 || len(s) == 11 {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	if len(s) >= 12 {
		return sane(time.UnixMilli(n).UTC())
	}
	return sane(time.Unix(n, 0).UTC())
}

var dmyRe = regexp.MustCompile(`^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$`)

// ambiguousDate reports whether raw is a numeric date whose day and month
// could be swapped ("01/02/2020"); gofeed picks an order for those, we do
// not.
func ambiguousDate(raw string) bool {
	m := dmyRe.FindStringSubmatch(strings.Join(strings.Fields(raw), " "))
	if m == nil {
		return false
	}
	a, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[2])
	return a != b && a >= 1 && a <= 12 && b >= 1 && b <= 12
}

// parseNumericDMY reads dd/mm/yyyy or mm/dd/yyyy only when one of the two
// numbers is above 12, so the order is certain.
func parseNumericDMY(s string) (time.Time, bool) {
	m := dmyRe.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, false
	}
	a, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[2])
	y, _ := strconv.Atoi(m[3])
	var day, month int
	switch {
	case a > 12 && b <= 12:
		day, month = a, b
	case b > 12 && a <= 12:
		day, month = b, a
	case a == b && a <= 12:
		day, month = a, b
	default:
		return time.Time{}, false
	}
	var hh, mm, ss int
	if m[4] != "" {
		hh, _ = strconv.Atoi(m[4])
		mm, _ = strconv.Atoi(m[5])
		if m[6] != "" {
			ss, _ = strconv.Atoi(m[6])
		}
	}
	if month < 1 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(month), day, hh, mm, ss, 0, time.UTC)
	if t.Day() != day {
		return time.Time{}, false // 31 February
	}
	return sane(t)
}

// localMonths maps month abbreviations and names in Portuguese, Spanish,
// French, German and Italian (lower case, without trailing dot) to English
// ones. No key means two different months in two languages.
var localMonths = map[string]string{
	"janeiro": "Jan", "fevereiro": "Feb", "março": "Mar", "marco": "Mar", "abril": "Apr", "maio": "May",
	"junho": "Jun", "julho": "Jul", "agosto": "Aug", "setembro": "Sep", "outubro": "Oct", "novembro": "Nov", "dezembro": "Dec",
	"fev": "Feb", "abr": "Apr", "mai": "May", "ago": "Aug", "set": "Sep", "out": "Oct", "dez": "Dec",
	"enero": "Jan", "febrero": "Feb", "marzo": "Mar", "mayo": "May", "junio": "Jun", "julio": "Jul",
	"septiembre": "Sep", "setiembre": "Sep", "octubre": "Oct", "noviembre": "Nov", "diciembre": "Dec",
	"ene": "Jan", "dic": "Dec",
	"janvier": "Jan", "février": "Feb", "fevrier": "Feb", "mars": "Mar", "avril": "Apr", "juin": "Jun",
	"juillet": "Jul", "août": "Aug", "aout": "Aug", "septembre": "Sep", "octobre": "Oct", "novembre": "Nov", "décembre": "Dec", "decembre": "Dec",
	"janv": "Jan", "févr": "Feb", "fevr": "Feb", "avr": "Apr", "juil": "Jul", "sept": "Sep", "déc": "Dec",
	"januar": "Jan", "februar": "Feb", "märz": "Mar", "mär": "Mar", "mrz": "Mar", "juni": "Jun", "juli": "Jul",
	"oktober": "Oct", "okt": "Oct", "dezember": "Dec",
	"gennaio": "Jan", "febbraio": "Feb", "aprile": "Apr", "maggio": "May", "giugno": "Jun", "luglio": "Jul",
	"settembre": "Sep", "ottobre": "Oct", "dicembre": "Dec", "gen": "Jan", "mag": "May", "giu": "Jun", "lug": "Jul", "ott": "Oct",
}

// localWeekdays are dropped (the date does not need them).
var localWeekdays = map[string]bool{
	"seg": true, "ter": true, "qua": true, "qui": true, "sex": true, "sáb": true, "sab": true, "dom": true,
	"lun": true, "mié": true, "mie": true, "jue": true, "vie": true,
	"mer": true, "jeu": true, "ven": true, "sam": true, "dim": true,
	"mo": true, "di": true, "mi": true, "do": true, "fr": true, "sa": true, "so": true,
	"gio":           true,
	"segunda-feira": true, "terça-feira": true, "quarta-feira": true, "quinta-feira": true, "sexta-feira": true, "sábado": true, "domingo": true,
	"lunes": true, "martes": true, "miércoles": true, "jueves": true, "viernes": true,
	"lundi": true, "mardi": true, "mercredi": true, "jeudi": true, "vendredi": true, "samedi": true, "dimanche": true,
	"montag": true, "dienstag": true, "mittwoch": true, "donnerstag": true, "freitag": true, "samstag": true, "sonntag": true,
}

// englishNames rewrites local month names to English and drops a leading
// weekday; changed is false when nothing was rewritten.
func englishNames(s string) (string, bool) {
	fields := strings.Fields(s)
	changed := false
	out := fields[:0:0]
	for i, f := range fields {
		w := strings.ToLower(strings.TrimRight(f, ".,"))
		if i == 0 && (localWeekdays[w] || isEnglishWeekday(w)) {
			changed = true
			continue
		}
		if w == "de" || w == "del" {
			changed = true
			continue
		}
		if en, ok := localMonths[w]; ok {
			out = append(out, en)
			changed = true
			continue
		}
		out = append(out, strings.TrimSuffix(f, "."))
	}
	return strings.Join(out, " "), changed
}

func isEnglishWeekday(w string) bool {
	switch w {
	case "mon", "tue", "wed", "thu", "fri", "sat", "sun", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday":
		return true
	}
	return false
}
