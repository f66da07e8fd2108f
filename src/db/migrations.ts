/**
 * The schema, as numbered migrations. A migration is never edited once released: a change is a
 * new entry with the next version. Each runs in its own transaction (see migrate.ts), so its SQL
 * must be transactional DDL: no CREATE INDEX CONCURRENTLY, no extension calls (those are guarded
 * separately, because PGlite and plain PostgreSQL have no TimescaleDB).
 */

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const INITIAL_SCHEMA = `
CREATE TABLE sites (
  site_id text PRIMARY KEY,
  protocol text NOT NULL CHECK (protocol IN ('v1', 'legacy')),
  profile jsonb NULL,
  status text NOT NULL DEFAULT 'unknown' CHECK (status IN ('online', 'offline', 'unknown')),
  status_at timestamptz,
  first_seen timestamptz NOT NULL,
  last_seen timestamptz NOT NULL
);

-- The primary key makes a redelivered message (MQTT QoS 1 is at-least-once) never a second row.
CREATE TABLE telemetry (
  time timestamptz NOT NULL,
  site_id text NOT NULL,
  protocol text NOT NULL CHECK (protocol IN ('v1', 'legacy')),
  source text NOT NULL CHECK (source IN ('battery', 'generator', 'off')),
  battery_v double precision NOT NULL,
  battery_a double precision,
  soc_pct double precision,
  battery_temp_c double precision,
  load_w double precision NOT NULL,
  pv_w double precision,
  gen_running boolean NOT NULL,
  gen_w double precision,
  fuel_pct double precision,
  shed_tier smallint,
  seq bigint,
  clock_restamped boolean NOT NULL DEFAULT false,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (site_id, time)
);

-- The first generation's table, as a view, so its Grafana dashboards run unchanged:
-- SELECT time, voltage, fuel_level, load_watts, active_source FROM power_events WHERE ...
CREATE VIEW power_events AS
SELECT
  time,
  site_id,
  CASE source
    WHEN 'battery' THEN 'Battery'
    WHEN 'generator' THEN 'Diesel'
    ELSE 'Shutdown'
  END AS active_source,
  battery_v AS voltage,
  fuel_pct AS fuel_level,
  load_w AS load_watts
FROM telemetry;

-- Payloads that failed to decode, kept (up to 64 KiB) so an operator can see what a device sent.
CREATE TABLE rejected_messages (
  id bigserial PRIMARY KEY,
  received_at timestamptz NOT NULL,
  topic text NOT NULL,
  payload bytea NOT NULL,
  payload_bytes int NOT NULL,
  truncated boolean NOT NULL,
  reason text NOT NULL
);
CREATE INDEX rejected_messages_received_at_idx ON rejected_messages (received_at);

CREATE TABLE commands (
  site_id text NOT NULL,
  seq bigint NOT NULL,
  issued_at timestamptz NOT NULL,
  valid_until timestamptz NOT NULL,
  topic text NOT NULL,
  payload jsonb NOT NULL,
  PRIMARY KEY (site_id, seq)
);
CREATE INDEX commands_site_issued_idx ON commands (site_id, issued_at DESC);

-- Events devices publish on kasi/v1/sites/{id}/event.
CREATE TABLE site_events (
  id bigserial PRIMARY KEY,
  site_id text NOT NULL,
  time timestamptz NOT NULL,
  kind text NOT NULL,
  detail jsonb NOT NULL
);
CREATE INDEX site_events_site_time_idx ON site_events (site_id, time DESC);
`;

/** Every migration, ascending by version. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "initial schema", sql: INITIAL_SCHEMA },
];
