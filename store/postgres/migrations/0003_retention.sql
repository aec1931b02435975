-- Wirewatch state, version 3: retention. Finished alerts are deleted once
-- older than [store] retention (Store.PruneAlerts); this index finds them.

CREATE INDEX alerts_done ON alerts (done_at) WHERE state IN ('sent', 'failed');
