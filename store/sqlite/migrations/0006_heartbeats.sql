-- Wirewatch state, version 6: readiness. Each process writes its row here
-- when /readyz asks (Store.Heartbeat), so readiness reflects a store that
-- cannot write (full disk, read-only file), not only one that answers.

CREATE TABLE heartbeats (
    owner TEXT PRIMARY KEY,
    at    INTEGER NOT NULL
);
