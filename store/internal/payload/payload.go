// Package payload owns the JSON encoding of an alert's rendering fields, the
// part of store.Alert that both store backends keep in one payload column
// next to the columns they query. A field added to store.Alert for rendering
// is added here, and old rows simply decode without it: no migration.
package payload

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// fields is the payload as stored. Names are short, stable JSON keys; never
// rename one (old rows carry the old name).
type fields struct {
	FeedKey   string    `json:"feed,omitempty"`
	FeedName  string    `json:"feed_name,omitempty"`
	ItemID    string    `json:"item,omitempty"`
	GUID      string    `json:"guid,omitempty"`
	Rule      string    `json:"rule,omitempty"`
	Title     string    `json:"title,omitempty"`
	Link      string    `json:"link,omitempty"`
	Published time.Time `json:"published,omitzero"`
	Snippet   string    `json:"snippet,omitempty"`
	Marks     [][2]int  `json:"marks,omitempty"`
	Matched   []string  `json:"matched,omitempty"`
	Text      string    `json:"text,omitempty"`
	// Signature is []byte: base64 in JSON.
	Signature []byte `json:"sig,omitempty"`
	// Breaking and Note: a story's breaking threshold, and an extra line
	// (the escalation message's).
	Breaking *store.Breaking `json:"breaking,omitempty"`
	Note     string          `json:"note,omitempty"`
}

// Encode returns the payload of a.
func Encode(a *store.Alert) ([]byte, error) {
	b, err := json.Marshal(fields{
		FeedKey: a.FeedKey, FeedName: a.FeedName, ItemID: a.ItemID, GUID: a.GUID,
		Rule: a.Rule, Title: a.Title, Link: a.Link, Published: a.Published,
		Snippet: a.Snippet, Marks: a.Marks, Matched: a.Matched, Text: a.Text, Signature: a.Signature,
		Breaking: a.Breaking, Note: a.Note,
	})
	if err != nil {
		return nil, fmt.Errorf("store: encode alert %s payload: %w", a.ID, err)
	}
	return b, nil
}

// Decode fills a's rendering fields from a payload.
func Decode(b []byte, a *store.Alert) error {
	var f fields
	if len(b) > 0 {
		if err := json.Unmarshal(b, &f); err != nil {
			return fmt.Errorf("store: decode alert %s payload: %w", a.ID, err)
		}
	}
	a.FeedKey, a.FeedName, a.ItemID, a.GUID = f.FeedKey, f.FeedName, f.ItemID, f.GUID
	a.Rule, a.Title, a.Link = f.Rule, f.Title, f.Link
	if !f.Published.IsZero() {
		a.Published = f.Published.UTC()
	}
	a.Snippet, a.Marks, a.Matched, a.Text = f.Snippet, f.Marks, f.Matched, f.Text
	a.Signature = f.Signature
	a.Breaking, a.Note = f.Breaking, f.Note
	return nil
}
