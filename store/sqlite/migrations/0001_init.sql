-- Wirewatch state, version 1. Times are Unix microseconds (UTC), 0 = none.

CREATE TABLE feeds (
    key            TEXT PRIMARY KEY,
    url            TEXT NOT NULL,
    config_url     TEXT NOT NULL DEFAULT '',
    configured     INTEGER NOT NULL DEFAULT 1,
    etag           TEXT NOT NULL DEFAULT '',
    last_modified  TEXT NOT NULL DEFAULT '',
    next_due       INTEGER NOT NULL DEFAULT 0,
    last_poll      INTEGER NOT NULL DEFAULT 0,
    last_success   INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT NOT NULL DEFAULT '',
    error_streak   INTEGER NOT NULL DEFAULT 0,
    failing_since  INTEGER NOT NULL DEFAULT 0,
    health_alerted INTEGER NOT NULL DEFAULT 0,
    initialized    INTEGER NOT NULL DEFAULT 0,
    polls          INTEGER NOT NULL DEFAULT 0,
    not_modified   INTEGER NOT NULL DEFAULT 0,
    lease_owner    TEXT NOT NULL DEFAULT '',
    lease_until    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX feeds_due ON feeds (next_due) WHERE configured = 1;

CREATE TABLE items (
    feed_key   TEXT NOT NULL REFERENCES feeds (key),
    item_id    TEXT NOT NULL,
    title      TEXT NOT NULL DEFAULT '',
    link       TEXT NOT NULL DEFAULT '',
    published  INTEGER NOT NULL DEFAULT 0,
    first_seen INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (feed_key, item_id)
) WITHOUT ROWID;
CREATE INDEX items_first_seen ON items (feed_key, first_seen);

-- The outbox. seq is the delivery order within a channel.
CREATE TABLE alerts (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL,
    channel      TEXT NOT NULL,
    digest       TEXT NOT NULL DEFAULT '',
    state        TEXT NOT NULL,
    created_at   INTEGER NOT NULL DEFAULT 0,
    next_attempt INTEGER NOT NULL DEFAULT 0,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT NOT NULL DEFAULT '',
    uncertain    INTEGER NOT NULL DEFAULT 0,
    slack_ts     TEXT NOT NULL DEFAULT '',
    done_at      INTEGER NOT NULL DEFAULT 0,
    lease_owner  TEXT NOT NULL DEFAULT '',
    lease_until  INTEGER NOT NULL DEFAULT 0,
    payload      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX alerts_channel_state ON alerts (channel, state, seq);
CREATE INDEX alerts_state ON alerts (state, seq);

-- One row per channel that ever had an alert: delivery lease and pacing.
CREATE TABLE channels (
    channel      TEXT PRIMARY KEY,
    lease_owner  TEXT NOT NULL DEFAULT '',
    lease_until  INTEGER NOT NULL DEFAULT 0,
    next_send_at INTEGER NOT NULL DEFAULT 0
);
