package backtest_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wirewatch/wirewatch/backtest"
	"github.com/wirewatch/wirewatch/itemtext"
	"github.com/wirewatch/wirewatch/rules"
)

// A Slack command such as `/wirewatch try QUERY` compiles the query,
// reports a *rules.Error at its column, and runs the backtest over the
// store (any Source) with a deadline; the Summary is bounded whatever the
// window.
func Example() {
	now := time.Date(2025, 10, 30, 12, 0, 0, 0, time.UTC)
	src := &backtest.Memory{} // in the daemon: the store
	src.Add("dawn", "1", now.Add(-26*time.Hour), itemtext.Text{Feed: "Dawn", Title: "Pakistan will strike 'deep into Afghanistan' if attacked, Asif warns"})
	src.Add("geo", "1", now.Add(-25*time.Hour), itemtext.Text{Feed: "Geo News", Title: "Asif warns Kabul: Pakistan ready to strike deep inside Afghanistan"})
	src.Add("tribune", "7", now.Add(-2*time.Hour), itemtext.Text{Feed: "The Express Tribune", Title: "Gurbaz's strike rate powers Afghanistan past Zimbabwe"})

	var re *rules.Error
	if _, err := rules.Compile("try", `strike AND (Pakistan OR Afghanistan`); errors.As(err, &re) {
		fmt.Println("error at column", re.Col)
	}
	r, _ := rules.Compile("try", `strike AND (Pakistan OR Afghanistan) NOT "strike rate"`)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sum, err := backtest.Run(ctx, src, []*rules.Rule{r}, backtest.Options{Since: now.Add(-7 * 24 * time.Hour)}, nil)
	if err != nil {
		fmt.Println(err) // with a deadline: sum has what was found, sum.Complete is false
	}
	fmt.Printf("%d of %d items match\n", sum.Matched, sum.Scanned)
	for _, l := range sum.Latest {
		fmt.Printf("%s (%s): %v\n", l.Item.Title, l.Item.Feed, l.Hits[0].Words)
	}
	for _, st := range sum.Stories {
		fmt.Printf("story of %d reports from %d feeds\n", st.Reports, st.Feeds)
	}
	// Output:
	// error at column 12
	// 2 of 3 items match
	// Pakistan will strike 'deep into Afghanistan' if attacked, Asif warns (Dawn): [title:Pakistan title:strike title:Afghanistan]
	// Asif warns Kabul: Pakistan ready to strike deep inside Afghanistan (Geo News): [title:Pakistan title:strike title:Afghanistan]
	// story of 2 reports from 2 feeds
}
