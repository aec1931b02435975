-- Wirewatch state, version 4: the per-channel hourly cap ([slack]
-- channel_cap) counts the top-level messages posted to each channel in the
-- last hour, shared by every replica and kept across restarts.

CREATE TABLE channel_posts (
    channel text NOT NULL,
    at      timestamptz NOT NULL
);
CREATE INDEX channel_posts_channel_at ON channel_posts (channel, at);
