-- Wirewatch state, version 8: what editors change from Slack. Times are
-- Unix microseconds (UTC), 0 = none.

-- Rules written by editors, every version kept; a retired rule's last
-- version has deleted = 1. Lists are JSON arrays of strings.
CREATE TABLE rule_versions (
    name            TEXT NOT NULL,
    version         INTEGER NOT NULL,
    query           TEXT NOT NULL,
    channels        TEXT NOT NULL DEFAULT '[]',
    examples        TEXT NOT NULL DEFAULT '[]',
    counterexamples TEXT NOT NULL DEFAULT '[]',
    deleted         INTEGER NOT NULL DEFAULT 0,
    author          TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (name, version)
) WITHOUT ROWID;

-- Mutes of rules and stories. until_at 0 with forever = 1: until unmuted.
-- A mute is open until ended (ended_at <> 0): unmuted, or replaced.
CREATE TABLE mutes (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    kind     TEXT NOT NULL,
    target   TEXT NOT NULL,
    channel  TEXT NOT NULL DEFAULT '',
    title    TEXT NOT NULL DEFAULT '',
    until_at INTEGER NOT NULL DEFAULT 0,
    forever  INTEGER NOT NULL DEFAULT 0,
    by_user  TEXT NOT NULL DEFAULT '',
    at       INTEGER NOT NULL,
    ended_at INTEGER NOT NULL DEFAULT 0,
    ended_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX mutes_open ON mutes (kind, target) WHERE ended_at = 0;

-- Alerts marked not relevant: counterexamples of their rule.
CREATE TABLE feedback (
    alert_id TEXT PRIMARY KEY,
    rule     TEXT NOT NULL,
    feed_key TEXT NOT NULL DEFAULT '',
    item_id  TEXT NOT NULL DEFAULT '',
    title    TEXT NOT NULL DEFAULT '',
    text     TEXT NOT NULL DEFAULT '',
    link     TEXT NOT NULL DEFAULT '',
    by_user  TEXT NOT NULL DEFAULT '',
    at       INTEGER NOT NULL
);
CREATE INDEX feedback_rule ON feedback (rule, at);

-- Who did what, once per key: a redelivered click or a double click has
-- the key of the first and is not recorded again.
CREATE TABLE audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    key     TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL DEFAULT '',
    at      INTEGER NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL DEFAULT '',
    details TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_at ON audit (at);

-- The change marker every replica polls: it grows with each rule save,
-- mute and unmute.
CREATE TABLE desk_changes (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO desk_changes (id, seq) VALUES (1, 0);

-- Per-rule alert counts read the item alerts of the last 7 days.
CREATE INDEX alerts_item_created ON alerts (created_at) WHERE kind = 'item';
