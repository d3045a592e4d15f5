-- Notification delivery state owned by the RabbitMQ consumer (not a
-- projection: it records side effects, so it is never rebuilt).

-- The inbox: one row per message id. A consumer claims a message by
-- inserting its row (or taking over an expired lease), so a copy that is
-- redelivered or republished while another consumer holds the lease is
-- deferred, and a copy arriving after delivery is dropped. `delivered` is
-- written in the same transaction as the NotificationDelivered event.
CREATE TABLE notification_inbox (
    message_id  text        PRIMARY KEY CHECK (length(message_id) <= 200),
    user_id     uuid,
    status      text        NOT NULL CHECK (status IN ('sending', 'delivered', 'dropped', 'dead')),
    attempts    integer     NOT NULL DEFAULT 1,
    lease_until timestamptz NOT NULL,
    -- The UTC day whose cap slot this message holds while it is in flight.
    cap_day     date,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Pushes per user and UTC day that count towards the daily cap: delivered
-- ones plus those in flight. Reserved with a conditional upsert
-- (`reserved < cap`), released again when an attempt fails, so concurrent
-- consumers never exceed the cap.
CREATE TABLE notification_daily_counts (
    user_id  uuid    NOT NULL,
    day      date    NOT NULL,
    reserved integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    PRIMARY KEY (user_id, day)
);
