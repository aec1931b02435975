-- Wirewatch state, version 5: claiming a channel's alerts costs the same
-- however long its backlog (issue 18.2). ClaimChannel reads a channel's
-- pending alerts in order from the first index, stopping at its claim
-- limit or at the first one that must wait, and the due digest alerts from
-- the second; neither ever walks the whole backlog.

CREATE INDEX alerts_pending ON alerts (channel, seq)
    WHERE state IN ('queued', 'sending') AND digest = '';
CREATE INDEX alerts_pending_digest ON alerts (channel, next_attempt, seq)
    WHERE state IN ('queued', 'sending') AND digest <> '';
