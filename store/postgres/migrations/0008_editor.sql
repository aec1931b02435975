-- Wirewatch state, version 8: what editors change from Slack.

-- Rules written by editors, every version kept; a retired rule's last
-- version has deleted = true.
CREATE TABLE rule_versions (
    name            text NOT NULL,
    version         integer NOT NULL,
    query           text NOT NULL,
    channels        text[] NOT NULL DEFAULT '{}',
    examples        text[] NOT NULL DEFAULT '{}',
    counterexamples text[] NOT NULL DEFAULT '{}',
    deleted         boolean NOT NULL DEFAULT false,
    author          text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (name, version)
);

-- Mutes of rules and stories; until_at NULL: until unmuted. A mute is
-- open until ended: unmuted, or replaced.
CREATE TABLE mutes (
    id       bigserial PRIMARY KEY,
    kind     text NOT NULL,
    target   text NOT NULL,
    channel  text NOT NULL DEFAULT '',
    title    text NOT NULL DEFAULT '',
    until_at timestamptz,
    by_user  text NOT NULL DEFAULT '',
    at       timestamptz NOT NULL,
    ended_at timestamptz,
    ended_by text NOT NULL DEFAULT ''
);
CREATE INDEX mutes_open ON mutes (kind, target) WHERE ended_at IS NULL;

-- Alerts marked not relevant: counterexamples of their rule.
CREATE TABLE feedback (
    alert_id text PRIMARY KEY,
    rule     text NOT NULL,
    feed_key text NOT NULL DEFAULT '',
    item_id  text NOT NULL DEFAULT '',
    title    text NOT NULL DEFAULT '',
    text     text NOT NULL DEFAULT '',
    link     text NOT NULL DEFAULT '',
    by_user  text NOT NULL DEFAULT '',
    at       timestamptz NOT NULL
);
CREATE INDEX feedback_rule ON feedback (rule, at);

-- Who did what, once per key: a redelivered click or a double click has
-- the key of the first and is not recorded again.
CREATE TABLE audit (
    id      bigserial PRIMARY KEY,
    key     text NOT NULL UNIQUE,
    user_id text NOT NULL DEFAULT '',
    at      timestamptz NOT NULL,
    action  text NOT NULL,
    target  text NOT NULL DEFAULT '',
    details text NOT NULL DEFAULT ''
);
CREATE INDEX audit_at ON audit (at);

-- The change marker every replica polls: it grows with each rule save,
-- mute and unmute.
CREATE TABLE desk_changes (
    id  integer PRIMARY KEY CHECK (id = 1),
    seq bigint NOT NULL
);
INSERT INTO desk_changes (id, seq) VALUES (1, 0);

-- Per-rule alert counts read the item alerts of the last 7 days.
CREATE INDEX alerts_item_created ON alerts (created_at) WHERE kind = 'item';
