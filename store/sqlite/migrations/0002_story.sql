-- Wirewatch state, version 2: story grouping. story_id is '' for an alert
-- that is not grouped, the alert's own id for the first alert of a story
-- (its message is the thread parent), else the id of that parent.

ALTER TABLE alerts ADD COLUMN story_id TEXT NOT NULL DEFAULT '';

-- The alerts of one story (AlertFilter.StoryID).
CREATE INDEX alerts_story ON alerts (story_id, seq) WHERE story_id <> '';

-- The story parents by creation time (StoryHeads).
CREATE INDEX alerts_story_heads ON alerts (created_at, seq) WHERE story_id = id AND kind = 'item';

-- The alerts one Slack message carried (AlertFilter.SlackTS): is a story's
-- parent message its own, or a grouped message?
CREATE INDEX alerts_slack_ts ON alerts (slack_ts) WHERE slack_ts <> '';
