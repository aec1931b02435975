-- Wirewatch state, version 7: what became of each item, for `wirewatch
-- explain` (issue 16.5). outcome is store.Item.Outcome (alerted, no_match,
-- muted, backfilled, old; '' for items recorded before this version),
-- matches the rules it matched then as a JSON array ('' for none). The
-- index finds the alerts of one item (AlertFilter.FeedKey and ItemID),
-- whose feed and item live in the payload.

ALTER TABLE items ADD COLUMN outcome TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN matches TEXT NOT NULL DEFAULT '';
CREATE INDEX alerts_item ON alerts (json_extract(payload, '$.feed'), json_extract(payload, '$.item'))
    WHERE kind = 'item';
