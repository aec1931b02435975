-- Wirewatch state, version 9: item texts ([store] keep_text). Each new
-- item's text, as the monitor encoded it (an itemtext record: compressed
-- fields and a sketch of the item's words), kept for backtests (`wirewatch
-- try -since`, the rule playground) and deleted once first seen longer ago
-- than keep_text (PruneTexts). Apart from items: their retention differs.
--
-- A backtest reads the rows in the order they were stored (rowid), from
-- the first one seen in its window (index item_texts_seen): one
-- sequential pass over the table. Reading them through the index instead
-- looked each row up in the table (a week of 100,000 rows: 1.4 s against
-- 0.3 s); a table clustered by time (WITHOUT ROWID) spills rows of more
-- than 1 KB to overflow pages and took twice the space.

CREATE TABLE item_texts (
    feed_key TEXT    NOT NULL,
    item_id  TEXT    NOT NULL,
    seen_at  INTEGER NOT NULL,
    record   BLOB    NOT NULL,
    PRIMARY KEY (feed_key, item_id)
);
CREATE INDEX item_texts_seen ON item_texts (seen_at);
