/** What Kasi knows about a site's equipment: the inputs of every prediction and decision. */
import { z } from "zod";
import { SITE_ID_PATTERN } from "./topics.ts";

export const CHEMISTRIES = ["flooded-lead-acid", "agm", "lifepo4"] as const;
export type Chemistry = typeof CHEMISTRIES[number];
/**
 * Where the backend gets a site's weather: Open-Meteo (hourly irradiance, no key) or
 * OpenWeatherMap (3-hourly cloud cover, needs OPENWEATHER_API_KEY). Unset: OpenWeatherMap when
 * the backend has a key, else Open-Meteo.
 */
export const WEATHER_SOURCES = ["open-meteo", "openweathermap"] as const;
export type WeatherSource = typeof WEATHER_SOURCES[number];

export const SiteProfileSchema = z.object({
  siteId: z.string().regex(SITE_ID_PATTERN),
  name: z.string().max(200).optional(),
  chemistry: z.enum(CHEMISTRIES),
  nominalV: z.union([z.literal(12), z.literal(24), z.literal(48)]),
  capacityWh: z.number().positive().max(10_000_000),
  /** Planning never discharges below this SoC. */
  reserveSocPct: z.number().min(0).max(100),
  tankL: z.number().min(0).max(100_000),
  generatorRatedKw: z.number().min(0).max(10_000),
  pvKwp: z.number().min(0).max(100_000),
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
  /** IANA zone, e.g. "Africa/Lagos". */
  timeZone: z.string().min(1).max(64),
  weatherSource: z.enum(WEATHER_SOURCES).optional(),
});
export type SiteProfile = z.infer<typeof SiteProfileSchema>;

/**
 * Profile assumed for a first-generation site until an operator records its own.
 * 12 V / 5000 Wh is fixed by the first generation's spec; the lead-acid chemistry follows from
 * its 13.8 V float and 11.5–12.1 V switch-over thresholds. Tank and generator size are not in
 * its messages: 100 L and 5 kW are typical of a single telecom site and are stated as assumptions.
 * Reserve 50 %: the usual depth-of-discharge limit for lead-acid cycle life.
 */
export function legacySiteProfile(siteId: string): SiteProfile {
  return {
    siteId,
    chemistry: "flooded-lead-acid",
    nominalV: 12,
    capacityWh: 5000,
    reserveSocPct: 50,
    tankL: 100,
    generatorRatedKw: 5,
    pvKwp: 0,
    latitude: 0,
    longitude: 0,
    timeZone: "UTC",
  };
}

/**
 * A device announces its equipment with an event `{"kind": "profile", "profile": {...}}` on
 * `kasi/v1/sites/{siteId}/event` after every connect, so the backend predicts with the real
 * battery, tank and generator. Wire names are snake_case with units, as in telemetry.
 */
export const SiteProfileWireSchema = z.object({
  site_id: z.string().regex(SITE_ID_PATTERN),
  name: z.string().max(200).optional(),
  chemistry: z.enum(CHEMISTRIES),
  nominal_v: z.union([z.literal(12), z.literal(24), z.literal(48)]),
  capacity_wh: z.number().positive().max(10_000_000),
  reserve_soc_pct: z.number().min(0).max(100),
  tank_l: z.number().min(0).max(100_000),
  generator_rated_kw: z.number().min(0).max(10_000),
  pv_kwp: z.number().min(0).max(100_000),
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
  time_zone: z.string().min(1).max(64),
  weather_source: z.enum(WEATHER_SOURCES).optional(),
});
export type SiteProfileWire = z.infer<typeof SiteProfileWireSchema>;

export function profileToWire(p: SiteProfile): SiteProfileWire {
  return {
    site_id: p.siteId,
    ...(p.name === undefined ? {} : { name: p.name }),
    chemistry: p.chemistry,
    nominal_v: p.nominalV,
    capacity_wh: p.capacityWh,
    reserve_soc_pct: p.reserveSocPct,
    tank_l: p.tankL,
    generator_rated_kw: p.generatorRatedKw,
    pv_kwp: p.pvKwp,
    latitude: p.latitude,
    longitude: p.longitude,
    time_zone: p.timeZone,
    ...(p.weatherSource === undefined ? {} : { weather_source: p.weatherSource }),
  };
}

export function profileFromWire(w: SiteProfileWire): SiteProfile {
  return {
    siteId: w.site_id,
    ...(w.name === undefined ? {} : { name: w.name }),
    chemistry: w.chemistry,
    nominalV: w.nominal_v,
    capacityWh: w.capacity_wh,
    reserveSocPct: w.reserve_soc_pct,
    tankL: w.tank_l,
    generatorRatedKw: w.generator_rated_kw,
    pvKwp: w.pv_kwp,
    latitude: w.latitude,
    longitude: w.longitude,
    timeZone: w.time_zone,
    ...(w.weather_source === undefined ? {} : { weatherSource: w.weather_source }),
  };
}
