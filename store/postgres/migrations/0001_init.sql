-- Wirewatch state, version 1. A time of 0001-01-01 00:00:00+00 means "none".

CREATE TABLE feeds (
    key            text PRIMARY KEY,
    url            text NOT NULL,
    config_url     text NOT NULL DEFAULT '',
    configured     boolean NOT NULL DEFAULT true,
    etag           text NOT NULL DEFAULT '',
    last_modified  text NOT NULL DEFAULT '',
    next_due       timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00',
    last_poll      timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00',
    last_success   timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00',
    last_error     text NOT NULL DEFAULT '',
    error_streak   integer NOT NULL DEFAULT 0,
    failing_since  timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00',
    health_alerted boolean NOT NULL DEFAULT false,
    initialized    boolean NOT NULL DEFAULT false,
    polls          bigint NOT NULL DEFAULT 0,
    not_modified   bigint NOT NULL DEFAULT 0,
    lease_owner    text NOT NULL DEFAULT '',
    lease_until    timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00'
);
CREATE INDEX feeds_due ON feeds (next_due) WHERE configured;

CREATE TABLE items (
    feed_key   text NOT NULL REFERENCES feeds (key),
    item_id    text NOT NULL,
    title      text NOT NULL DEFAULT '',
    link       text NOT NULL DEFAULT '',
    published  timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00',
    first_seen timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00',
    PRIMARY KEY (feed_key, item_id)
);
CREATE INDEX items_first_seen ON items (feed_key, first_seen);

-- The outbox. seq is the delivery order within a channel; payload holds the
-- rendering fields (see store/internal/payload).
CREATE TABLE alerts (
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           text NOT NULL UNIQUE,
    kind         text NOT NULL,
    channel      text NOT NULL,
    digest       text NOT NULL DEFAULT '',
    state        text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00',
    next_attempt timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00',
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text NOT NULL DEFAULT '',
    uncertain    boolean NOT NULL DEFAULT false,
    slack_ts     text NOT NULL DEFAULT '',
    done_at      timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00',
    lease_owner  text NOT NULL DEFAULT '',
    lease_until  timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00',
    payload      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX alerts_channel_state ON alerts (channel, state, seq);
CREATE INDEX alerts_state ON alerts (state, seq);

-- One row per channel that ever had an alert: delivery lease and pacing,
-- shared by every replica.
CREATE TABLE channels (
    channel      text PRIMARY KEY,
    lease_owner  text NOT NULL DEFAULT '',
    lease_until  timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00',
    next_send_at timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00'
);
