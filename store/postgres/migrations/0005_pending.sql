-- Wirewatch state, version 5: claiming a channel's alerts costs the same
-- however long its backlog (issue 18.2). ClaimChannel reads a channel's
-- pending alerts in order from the first index, stopping at its claim
-- limit or at the first one that must wait, and the due digest alerts from
-- the second; neither ever walks the whole backlog.

CREATE INDEX alerts_pending ON alerts (channel, seq)
    WHERE state IN ('queued', 'sending') AND digest = '';
CREATE INDEX alerts_pending_digest ON alerts (channel, next_attempt, seq)
    WHERE state IN ('queued', 'sending') AND digest <> '';

-- The outbox is a queue: every alert is updated twice (sending, sent) and
-- each update leaves a dead row version and dead index entries that
-- claims step over until VACUUM removes them. Vacuum it after 2% of its
-- rows changed rather than the default 20%, so a drained backlog of
-- 100,000 alerts leaves no trail longer than a few thousand.
ALTER TABLE alerts SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.02);
