-- Wirewatch state, version 9: item texts ([store] keep_text). Each new
-- item's text, as the monitor encoded it (an itemtext record: compressed
-- fields and a sketch of the item's words), kept for backtests (`wirewatch
-- try -since`, the rule playground) and deleted once first seen longer ago
-- than keep_text (PruneTexts). Apart from items: their retention differs.
-- The records are compressed already: no TOAST compression.

CREATE TABLE item_texts (
    feed_key text        NOT NULL,
    item_id  text        NOT NULL,
    seen_at  timestamptz NOT NULL,
    record   bytea       NOT NULL,
    PRIMARY KEY (feed_key, item_id)
);
ALTER TABLE item_texts ALTER COLUMN record SET STORAGE EXTERNAL;
CREATE INDEX item_texts_seen ON item_texts (seen_at, feed_key, item_id);
