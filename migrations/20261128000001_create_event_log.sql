-- The event log: the postgres-es table, extended with a global position, the
-- writing transaction's id and the time of recording. postgres-es names its
-- seven insert columns, so the defaults fill the extra ones.
CREATE TABLE events (
    aggregate_type  text        NOT NULL,
    aggregate_id    text        NOT NULL,
    sequence        bigint      NOT NULL CHECK (sequence >= 0),
    event_type      text        NOT NULL,
    event_version   text        NOT NULL,
    payload         jsonb       NOT NULL,
    metadata        jsonb       NOT NULL,
    global_position bigint      GENERATED ALWAYS AS IDENTITY,
    transaction_id  xid8        NOT NULL DEFAULT pg_current_xact_id(),
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);

-- No other unique constraint may sit on `events` besides this one and the
-- primary key: postgres-es reports every unique violation as a concurrency
-- conflict. Global positions come from an identity and never collide.
CREATE UNIQUE INDEX events_global_position_uq ON events (global_position);

-- The order every global reader uses (projectors, reactors, audit replay):
-- (transaction_id, global_position), fenced below the oldest running xid.
CREATE INDEX events_tx_pos_idx ON events (transaction_id, global_position);

-- The log is append-only.
CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER events_no_update_or_delete
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();

CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();

-- Where each projection (and reactor) has got to in the global order.
CREATE TABLE projection_checkpoints (
    projection     text        PRIMARY KEY,
    last_tx        xid8        NOT NULL DEFAULT '0',
    last_pos       bigint      NOT NULL DEFAULT 0,
    events_seen    bigint      NOT NULL DEFAULT 0,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
