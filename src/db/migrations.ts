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

/**
 * The first generation's panels were drawn for its own 12 V sites: a 48 V v1 site in them would
 * read as a fault. The view keeps to first-generation rows; v1 sites have their own dashboards.
 * A first-generation history kept as power_events_gen1 (migration 1) is copied into telemetry
 * when it has the first generation's columns, so the panels still show it and predictions can
 * learn from it. Its generator state was not recorded; the source says "Diesel" when it ran.
 */
const FIRST_GENERATION_VIEW = `
CREATE OR REPLACE VIEW power_events AS
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
FROM telemetry
WHERE protocol = 'legacy';

DO $$
BEGIN
  IF (SELECT count(*) FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = 'power_events_gen1'
        AND column_name IN ('time', 'site_id', 'active_source', 'voltage', 'fuel_level',
                            'load_watts')) = 6 THEN
    INSERT INTO telemetry (time, site_id, protocol, source, battery_v, load_w, gen_running,
                           fuel_pct)
    SELECT time, lower(site_id::text), 'legacy',
           CASE active_source::text WHEN 'Battery' THEN 'battery' WHEN 'Diesel' THEN 'generator'
                                    ELSE 'off' END,
           voltage, load_watts, active_source::text = 'Diesel', fuel_level
    FROM power_events_gen1
    WHERE time IS NOT NULL AND site_id IS NOT NULL AND voltage IS NOT NULL
      AND load_watts IS NOT NULL
    ON CONFLICT DO NOTHING;
    INSERT INTO sites (site_id, protocol, first_seen, last_seen)
    SELECT site_id, 'legacy', min(time), max(time) FROM telemetry
    WHERE protocol = 'legacy' GROUP BY site_id
    ON CONFLICT (site_id) DO NOTHING;
  END IF;
END $$;
`;

/**
 * Hourly per-site summaries of telemetry, what dashboards read for ranges longer than a few days
 * (a year of one site is 8,760 rows here against 3.2 million 10-second rows). On plain
 * PostgreSQL and PGlite this table is kept up to date by the backend (src/backend/rollup.ts);
 * where TimescaleDB is enabled, `kasi migrate` replaces it with a continuous aggregate of the same
 * name and columns (src/db/timescale.ts), so one dashboard query serves both. Buckets are UTC
 * hours: date_bin('1 hour', time, '2000-01-01') here, time_bucket('1 hour', time) there; both
 * start every bucket on a whole UTC hour. Sample counts let a reader weigh averages and turn a
 * share of samples into hours (generator running, load shut down).
 */
const HOURLY_ROLLUP = `
CREATE TABLE telemetry_hourly (
  bucket timestamptz NOT NULL,
  site_id text NOT NULL,
  samples bigint NOT NULL,
  first_time timestamptz,
  last_time timestamptz,
  soc_avg_pct double precision,
  soc_min_pct double precision,
  soc_max_pct double precision,
  battery_avg_v double precision,
  battery_min_v double precision,
  battery_max_v double precision,
  battery_temp_max_c double precision,
  load_avg_w double precision,
  load_max_w double precision,
  pv_avg_w double precision,
  pv_max_w double precision,
  gen_avg_w double precision,
  fuel_avg_pct double precision,
  fuel_min_pct double precision,
  fuel_max_pct double precision,
  gen_running_samples bigint,
  source_battery_samples bigint,
  source_generator_samples bigint,
  source_off_samples bigint,
  shed_samples bigint,
  PRIMARY KEY (site_id, bucket)
);
-- Fleet-wide panels select a time range across every site.
CREATE INDEX telemetry_hourly_bucket_idx ON telemetry_hourly (bucket);
-- The fleet's event list selects a time range across every site.
CREATE INDEX site_events_time_idx ON site_events (time);
`;

/**
 * Alarms (src/backend/alarms.ts): one row per alarm, raised → acknowledged → cleared, with the
 * values that raised it and those that cleared it. At most one open alarm per site and kind: a
 * partial unique index, so a second backend (or a retry) cannot raise a duplicate. Grafana's
 * read-only role gets SELECT through the default privileges grafana/postgres/create_reader.sh
 * sets, as on every table.
 */
const ALARMS = `
CREATE TABLE alarms (
  id bigserial PRIMARY KEY,
  site_id text NOT NULL,
  kind text NOT NULL,
  severity text NOT NULL CHECK (severity IN ('critical', 'warning')),
  state text NOT NULL CHECK (state IN ('raised', 'acknowledged', 'cleared')),
  message text NOT NULL,
  raised_at timestamptz NOT NULL,
  acknowledged_at timestamptz,
  acknowledged_by text,
  cleared_at timestamptz,
  "values" jsonb NOT NULL DEFAULT '{}',
  cleared_values jsonb
);
CREATE UNIQUE INDEX alarms_one_open_idx ON alarms (site_id, kind) WHERE state <> 'cleared';
CREATE INDEX alarms_raised_at_idx ON alarms (raised_at DESC);
CREATE INDEX alarms_site_raised_idx ON alarms (site_id, raised_at DESC);
`;

/** Every migration, ascending by version. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "initial schema", sql: INITIAL_SCHEMA },
  { version: 2, name: "power_events shows first-generation sites", sql: FIRST_GENERATION_VIEW },
  { version: 3, name: "hourly telemetry rollup", sql: HOURLY_ROLLUP },
  { version: 4, name: "alarms", sql: ALARMS },
];
