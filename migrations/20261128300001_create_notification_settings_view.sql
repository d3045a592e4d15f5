-- Read model of the `notification_settings` projection: each user's topic,
-- preferences and muted symbols. Derived from events only.
CREATE TABLE notification_settings_view (
    user_id        uuid     PRIMARY KEY,
    topic          text,
    enabled        boolean  NOT NULL DEFAULT true,
    min_confluence smallint NOT NULL DEFAULT 3,
    directions     text     NOT NULL DEFAULT 'both',
    priority       smallint NOT NULL DEFAULT 4,
    quiet_start    smallint,
    quiet_end      smallint,
    time_zone      text     NOT NULL DEFAULT 'UTC',
    muted_symbols  text[]   NOT NULL DEFAULT '{}',
    last_seq       bigint   NOT NULL
);
