-- Read models of the `broadcasts` projection (derived from events only):
-- every broadcast with its delivery statistics, and the templates.
CREATE TABLE broadcasts_view (
    broadcast_id uuid        PRIMARY KEY,
    title        text        NOT NULL,
    message      text        NOT NULL,
    priority     smallint    NOT NULL,
    tags         text[]      NOT NULL,
    audience     jsonb       NOT NULL,
    status       text        NOT NULL CHECK (status IN ('scheduled', 'sent', 'cancelled')),
    send_at      timestamptz NOT NULL,
    settled_at   timestamptz,
    delivered    bigint      NOT NULL DEFAULT 0,
    failed       bigint      NOT NULL DEFAULT 0
);
CREATE INDEX broadcasts_view_due_idx ON broadcasts_view (send_at) WHERE status = 'scheduled';

CREATE TABLE broadcast_templates_view (
    template_id uuid     PRIMARY KEY,
    name        text     NOT NULL,
    title       text     NOT NULL,
    message     text     NOT NULL,
    priority    smallint NOT NULL,
    tags        text[]   NOT NULL
);

-- How many messages the notifier published for each broadcast (reactor
-- state, written in its checkpoint transaction).
CREATE TABLE broadcast_dispatches (
    broadcast_id uuid   PRIMARY KEY,
    recipients   bigint NOT NULL
);
