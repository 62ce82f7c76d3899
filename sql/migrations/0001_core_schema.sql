-- Users, catalog, seats, the points ledger and idempotent retries.
-- Invariants live here as well as in the code, so a bug in one is caught by the other:
--   balances never go negative or past the ceiling (CHECK);
--   a seat's columns always describe one coherent state (CHECK);
--   a seat is paid for at most once (partial UNIQUE index on the ledger).

CREATE TYPE seat_status AS ENUM ('AVAILABLE', 'TEMPORARY_RESERVED', 'RESERVED');
CREATE TYPE ledger_cause AS ENUM ('CHARGED_BY_USER', 'PAYMENT_PERFORMANCE_SEAT');

CREATE TABLE users (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email_address  text NOT NULL,
    password_hash  text NOT NULL,
    name           text,
    phone_number   text,
    balance        bigint NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_balance_not_negative CHECK (balance >= 0),
    CONSTRAINT users_balance_ceiling CHECK (balance <= 1000000000)
);
CREATE UNIQUE INDEX users_email_unique ON users (email_address);

CREATE TABLE stages (
    id        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name      text NOT NULL,
    location  text NOT NULL
);

CREATE TABLE performances (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    stage_id              uuid NOT NULL REFERENCES stages (id),
    title                 text NOT NULL,
    ticketing_start_date  timestamptz NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE performance_staging_dates (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    performance_id  uuid NOT NULL REFERENCES performances (id),
    staging_date    timestamptz NOT NULL
);
CREATE INDEX performance_staging_dates_performance ON performance_staging_dates (performance_id);

CREATE TABLE performance_seats (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    staging_date_id     uuid NOT NULL REFERENCES performance_staging_dates (id),
    seat_number         text NOT NULL,
    price               bigint NOT NULL CONSTRAINT performance_seats_price_positive CHECK (price > 0),
    reservation_status  seat_status NOT NULL DEFAULT 'AVAILABLE',
    holder_id           uuid REFERENCES users (id),
    hold_expires_at     timestamptz,
    reserved_at         timestamptz,
    CONSTRAINT performance_seats_number_unique UNIQUE (staging_date_id, seat_number),
    CONSTRAINT performance_seats_state_coherent CHECK (
        (reservation_status = 'AVAILABLE'
            AND holder_id IS NULL AND hold_expires_at IS NULL AND reserved_at IS NULL)
        OR (reservation_status = 'TEMPORARY_RESERVED'
            AND holder_id IS NOT NULL AND hold_expires_at IS NOT NULL AND reserved_at IS NULL)
        OR (reservation_status = 'RESERVED'
            AND holder_id IS NOT NULL AND hold_expires_at IS NULL AND reserved_at IS NOT NULL))
);
CREATE INDEX performance_seats_schedule ON performance_seats (staging_date_id, seat_number);
CREATE INDEX performance_seats_holder ON performance_seats (holder_id, staging_date_id)
    WHERE holder_id IS NOT NULL;
CREATE INDEX performance_seats_hold_expiry ON performance_seats (hold_expires_at)
    WHERE reservation_status = 'TEMPORARY_RESERVED';

CREATE TABLE ledger_entries (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id              uuid NOT NULL REFERENCES users (id),
    amount               bigint NOT NULL,
    cause                ledger_cause NOT NULL,
    performance_seat_id  uuid REFERENCES performance_seats (id),
    created_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT ledger_entries_shape CHECK (
        (cause = 'CHARGED_BY_USER' AND amount > 0 AND performance_seat_id IS NULL)
        OR (cause = 'PAYMENT_PERFORMANCE_SEAT' AND amount < 0 AND performance_seat_id IS NOT NULL))
);
CREATE INDEX ledger_entries_user ON ledger_entries (user_id, id);
CREATE UNIQUE INDEX ledger_entries_one_payment_per_seat ON ledger_entries (performance_seat_id)
    WHERE cause = 'PAYMENT_PERFORMANCE_SEAT';

-- The first successful answer to a mutating call, stored in the same transaction as its
-- effect, so that a retry with the same Idempotency-Key replays it and changes nothing.
CREATE TABLE idempotency_keys (
    user_id        uuid NOT NULL REFERENCES users (id),
    route          text NOT NULL,
    key            text NOT NULL,
    request_hash   text NOT NULL,
    status_code    integer NOT NULL,
    response_body  text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, route, key)
);
