-- Market data (ARCHITECTURE §6). Candles are external facts at high volume,
-- not events: one plain table keyed by (symbol, timeframe, open_time),
-- written with bulk upserts of closed, validated candles only.
CREATE TABLE candles (
    symbol     text             NOT NULL,
    timeframe  text             NOT NULL,
    open_time  bigint           NOT NULL,
    open       double precision NOT NULL,
    high       double precision NOT NULL,
    low        double precision NOT NULL,
    close      double precision NOT NULL,
    volume     double precision NOT NULL,
    PRIMARY KEY (symbol, timeframe, open_time),
    -- Defence in depth: the application rejects such candles first (PRODUCT §3).
    CONSTRAINT candles_sane CHECK (
        open > 0 AND high > 0 AND low > 0 AND close > 0 AND volume >= 0
        AND high >= greatest(open, close) AND low <= least(open, close)
        AND open <> 'NaN' AND high <> 'NaN' AND low <> 'NaN' AND close <> 'NaN' AND volume <> 'NaN'
        AND high <> 'Infinity' AND volume <> 'Infinity'
    )
);

-- How far the pipeline has processed each symbol's 1m candles (open time of
-- the newest 1m candle whose aggregation, detection and book updates are
-- all recorded). Write-side bookkeeping, like the candles.
CREATE TABLE market_progress (
    symbol            text   PRIMARY KEY,
    processed_through bigint NOT NULL
);

-- Resumable backfills: where `market backfill --from` has got to.
CREATE TABLE market_backfills (
    symbol    text   NOT NULL,
    from_time bigint NOT NULL,
    next_time bigint NOT NULL,
    PRIMARY KEY (symbol, from_time)
);

-- Gaps that `market health --fix` could not fill because the exchange has
-- no data there; remembered so later checks do not report them again.
CREATE TABLE candle_gaps_accepted (
    symbol    text   NOT NULL,
    from_time bigint NOT NULL,
    to_time   bigint NOT NULL,
    PRIMARY KEY (symbol, from_time)
);

-- Read models. Every column is derived from events only (no wall-clock
-- columns), so a rebuild reproduces them exactly.

CREATE TABLE symbols_view (
    symbol        text        PRIMARY KEY,
    listed        boolean     NOT NULL,
    mandatory     boolean     NOT NULL,
    notifications boolean     NOT NULL,
    listed_at     timestamptz NOT NULL,
    delisted_at   timestamptz
);

CREATE TABLE patterns_view (
    pattern_id   uuid             PRIMARY KEY,
    symbol       text             NOT NULL,
    timeframe    text             NOT NULL,
    pattern_type text             NOT NULL,
    direction    text             NOT NULL,
    detected_ts  bigint           NOT NULL,
    known_at     bigint           NOT NULL,
    expires_at   bigint           NOT NULL,
    zone_low     double precision NOT NULL,
    zone_high    double precision NOT NULL,
    swept_level  double precision,
    atr          double precision NOT NULL,
    swing_high   double precision,
    swing_low    double precision,
    entry        double precision NOT NULL,
    stop_loss    double precision NOT NULL,
    take_profit_1 double precision NOT NULL,
    take_profit_2 double precision NOT NULL,
    take_profit_3 double precision NOT NULL,
    risk          double precision NOT NULL,
    risk_reward_1 double precision NOT NULL,
    risk_reward_2 double precision NOT NULL,
    risk_reward_3 double precision NOT NULL,
    status       text             NOT NULL,
    closed_at    bigint
);
CREATE INDEX patterns_view_book_idx ON patterns_view (symbol, known_at);
CREATE INDEX patterns_view_list_idx ON patterns_view (detected_ts DESC, pattern_id);
CREATE INDEX patterns_view_symbol_idx ON patterns_view (symbol, timeframe, detected_ts DESC);

CREATE TABLE pattern_matrix_view (
    pattern_id   uuid             PRIMARY KEY,
    symbol       text             NOT NULL,
    timeframe    text             NOT NULL,
    pattern_type text             NOT NULL,
    direction    text             NOT NULL,
    detected_ts  bigint           NOT NULL,
    zone_low     double precision NOT NULL,
    zone_high    double precision NOT NULL
);
CREATE INDEX pattern_matrix_view_cell_idx
    ON pattern_matrix_view (symbol, timeframe, pattern_type, detected_ts DESC);

CREATE TABLE signals_view (
    signal_id          uuid             PRIMARY KEY,
    symbol             text             NOT NULL,
    direction          text             NOT NULL,
    created_at         bigint           NOT NULL,
    pattern_id         uuid             NOT NULL,
    pattern_timeframe  text             NOT NULL,
    pattern_type       text             NOT NULL,
    pattern_detected_ts bigint          NOT NULL,
    zone_low           double precision NOT NULL,
    zone_high          double precision NOT NULL,
    timeframes_aligned text[]           NOT NULL,
    confluence         integer          NOT NULL,
    atr                double precision NOT NULL,
    entry              double precision NOT NULL,
    stop_loss          double precision NOT NULL,
    take_profit_1      double precision NOT NULL,
    take_profit_2      double precision NOT NULL,
    take_profit_3      double precision NOT NULL,
    risk               double precision NOT NULL,
    risk_reward        double precision NOT NULL,
    valid_until        bigint           NOT NULL,
    entered_at         bigint,
    tp1_at             bigint,
    tp2_at             bigint,
    tp3_at             bigint,
    resolved_at        bigint,
    outcome            text,
    closed_by          text
);
CREATE INDEX signals_view_book_idx ON signals_view (symbol, created_at);
CREATE INDEX signals_view_list_idx ON signals_view (created_at DESC, signal_id);

CREATE TABLE market_health_view (
    symbol          text        PRIMARY KEY,
    runs            bigint      NOT NULL,
    failures        bigint      NOT NULL,
    candles_fetched bigint      NOT NULL,
    candles_stored  bigint      NOT NULL,
    candles_rejected bigint     NOT NULL,
    first_open_time bigint,
    last_open_time  bigint,
    gaps            bigint      NOT NULL,
    missing_minutes bigint      NOT NULL,
    last_run_at     timestamptz NOT NULL,
    last_error      text
);

CREATE TABLE pattern_stats_view (
    symbol       text   NOT NULL,
    timeframe    text   NOT NULL,
    pattern_type text   NOT NULL,
    direction    text   NOT NULL,
    day          date   NOT NULL,
    detected     bigint NOT NULL,
    filled       bigint NOT NULL,
    invalidated  bigint NOT NULL,
    expired      bigint NOT NULL,
    PRIMARY KEY (symbol, timeframe, pattern_type, direction, day)
);

CREATE TABLE signal_stats_view (
    symbol    text   NOT NULL,
    direction text   NOT NULL,
    day       date   NOT NULL,
    generated bigint NOT NULL,
    entered   bigint NOT NULL,
    tp1       bigint NOT NULL,
    tp2       bigint NOT NULL,
    tp3       bigint NOT NULL,
    stopped   bigint NOT NULL,
    expired   bigint NOT NULL,
    PRIMARY KEY (symbol, direction, day)
);
