-- Wirewatch state, version 6: readiness. Each replica writes its row here
-- when /readyz asks (Store.Heartbeat), so readiness reflects a database
-- that cannot write (read-only, full), not only one that answers.

CREATE TABLE heartbeats (
    owner text PRIMARY KEY,
    at    timestamptz NOT NULL
);
