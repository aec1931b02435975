package parse

import (
	"testing"
	"time"
)

func TestRecoverDate(t *testing.T) {
	utc := func(y int, m time.Month, d, hh, mm, ss int) time.Time {
		return time.Date(y, m, d, hh, mm, ss, 0, time.UTC)
	}
	ok := map[string]time.Time{
		"2020/1/10 14:33:00":                                  utc(2020, 1, 10, 14, 33, 0),
		"2020/01/10 14:33":                                    utc(2020, 1, 10, 14, 33, 0),
		"2020-01-10 14:33:00":                                 utc(2020, 1, 10, 14, 33, 0), // no zone: UTC
		"2020-01-10T14:33:00":                                 utc(2020, 1, 10, 14, 33, 0),
		"Fri, 10 Jan 2020 14:33:00":                           utc(2020, 1, 10, 14, 33, 0),
		"Sat, Dec 16 2023 02:02:33 PM":                        utc(2023, 12, 16, 14, 2, 33),
		"Tue, 08 Sep 2009 21:00:03 PST":                       utc(2009, 9, 9, 5, 0, 3),
		"Mon, 30 Jul 2012 14:21:44 EST":                       utc(2012, 7, 30, 19, 21, 44),
		"Seg, 24 Set 2018 19:18:49 -0300":                     utc(2018, 9, 24, 22, 18, 49), // Portuguese
		"Lundi, 3 février 2020 10:00":                         utc(2020, 2, 3, 10, 0, 0),    // French
		"3. März 2020 10:00":                                  utc(2020, 3, 3, 10, 0, 0),    // German
		"10 de enero de 2020":                                 utc(2020, 1, 10, 0, 0, 0),    // Spanish
		"1578666780":                                          utc(2020, 1, 10, 14, 33, 0),  // epoch seconds
		"25/12/2020 08:00":                                    utc(2020, 12, 25, 8, 0, 0),   // day > 12: certain
		"12/25/2020":                                          utc(2020, 12, 25, 0, 0, 0),   // US order, certain
		`<time datetime="2020-01-10T14:33:00Z">Jan 10</time>`: utc(2020, 1, 10, 14, 33, 0),
		"<span>2020-01-10 14:33:00</span>":                    utc(2020, 1, 10, 14, 33, 0),
		"  2020-01-10T14:33:00+02:00  ":                       utc(2020, 1, 10, 12, 33, 0),
	}
	for in, want := range ok {
		got, good := RecoverDate(in)
		if !good || !got.Equal(want) {
			t.Errorf("RecoverDate(%q) = %v, %v; want %v", in, got, good, want)
		}
	}
	for _, in := range []string{
		"",
		"yesterday",
		"01/02/2020",                    // January 2 or February 1?
		"Tue, 08 Sep 2009 21:00:03 IST", // India, Ireland or Israel?
		"Tue, 08 Sep 2009 21:00:03 XYZ",
		"31/02/2020",
		"0001-01-01T00:00:00Z", // before 1970: a placeholder, not a date
		"9999-12-31 23:59:59",
		"12345",
	} {
		if got, good := RecoverDate(in); good {
			t.Errorf("RecoverDate(%q) = %v, want no date (ambiguous or invalid)", in, got)
		}
	}
}

func TestItemDatesThroughParse(t *testing.T) {
	feed := `<rss version="2.0"><channel><title>t</title>
<item><guid>a</guid><title>a</title><pubDate>2020/1/10 14:33:00</pubDate></item>
<item><guid>b</guid><title>b</title><pubDate><![CDATA[<time datetime="2021-03-04T05:06:07Z">March 4</time>]]></pubDate></item>
<item><guid>c</guid><title>c</title><pubDate>01/02/2020</pubDate></item>
<item><guid>d</guid><title>d</title></item>
</channel></rss>`
	f, err := Parse([]byte(feed), "", "https://example.com/")
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Time{
		time.Date(2020, 1, 10, 14, 33, 0, 0, time.UTC),
		time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC),
		{}, {}, // ambiguous, absent: the caller uses the time first seen
	}
	for i, it := range f.Items {
		if !it.Published.Equal(want[i]) {
			t.Errorf("item %s: Published %v, want %v", it.GUID, it.Published, want[i])
		}
	}
}
