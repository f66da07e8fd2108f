/**
 * Solar physics for planning: where the sun is, how much sunlight a clear sky lets through, how
 * much of it clouds keep, and what a PV array makes of it. Pure: every time is passed in (UTC).
 */

const RAD = Math.PI / 180;
const MS_PER_DAY = 86_400_000;

/** Where the sun stands, seen from a place at a moment. */
export interface SolarPosition {
  /** Angle above the horizon, −90..90° (no refraction: the geometric sun). */
  elevationDeg: number;
  /** 90° − elevation. */
  zenithDeg: number;
  /** Clockwise from true north, 0..360° (90° east, 180° south). */
  azimuthDeg: number;
  /** Solar declination, degrees. */
  declinationDeg: number;
  /** Apparent minus mean solar time, minutes (−14.6 in mid-February, +16.4 in early November). */
  equationOfTimeMin: number;
  /** Hour angle, degrees: 0 at solar noon, negative in the morning. */
  hourAngleDeg: number;
}

/** Day of the year, 1 on 1 January (UTC). */
export function dayOfYear(time: Date): number {
  const start = Date.UTC(time.getUTCFullYear(), 0, 1);
  return Math.floor((time.getTime() - start) / MS_PER_DAY) + 1;
}

function checkLocation(latitudeDeg: number, longitudeDeg: number): void {
  if (!(latitudeDeg >= -90 && latitudeDeg <= 90)) {
    throw new RangeError(`latitude: ${latitudeDeg}° is not within −90..90°`);
  }
  if (!(longitudeDeg >= -180 && longitudeDeg <= 180)) {
    throw new RangeError(`longitude: ${longitudeDeg}° is not within −180..180°`);
  }
}

/** Julian day of a time: the Unix epoch is JD 2440587.5. */
function julianDay(time: Date): number {
  return time.getTime() / MS_PER_DAY + 2440587.5;
}

function sinDeg(deg: number): number {
  return Math.sin(deg * RAD);
}

/**
 * The sun's position by the NOAA Solar Calculator's equations (NOAA Global Monitoring
 * Laboratory, gml.noaa.gov/grad/solcalc/calcdetails.html, after Meeus, "Astronomical
 * Algorithms", 1991), with T the Julian centuries from J2000.0 (JD 2451545):
 * - mean longitude L0 = 280.46646 + T (36000.76983 + 0.0003032 T), mean anomaly
 *   M = 357.52911 + T (35999.05029 − 0.0001537 T), eccentricity
 *   e = 0.016708634 − T (0.000042037 + 0.0000001267 T);
 * - equation of centre C = sin M (1.914602 − T (0.004817 + 0.000014 T))
 *   + sin 2M (0.019993 − 0.000101 T) + 0.000289 sin 3M; apparent longitude
 *   λ = L0 + C − 0.00569 − 0.00478 sin Ω, Ω = 125.04 − 1934.136 T;
 * - obliquity ε = 23° 26′ (21.448 − T (46.815 + T (0.00059 − 0.001813 T)))″ + 0.00256 cos Ω;
 *   declination δ = asin(sin ε sin λ);
 * - equation of time (min) = 4 · deg(y sin 2L0 − 2e sin M + 4ey sin M cos 2L0
 *   − ½y² sin 4L0 − 1.25e² sin 2M), y = tan²(ε/2);
 * - true solar time (min) = UTC minutes + equation of time + 4 · longitude; hour angle
 *   ω = true solar time / 4 − 180°; cos z = sin φ sin δ + cos φ cos δ cos ω.
 * NOAA rates these good to about a minute of time within ±72° latitude for 1800–2100. The
 * shorter Spencer (1971) series puts the 2026 March equinox 0.4° of declination off (it was
 * fitted to one year), and the simulator's former Cooper (1969) declination without an
 * equation of time put the sun up to 16 min (4° of hour angle) off.
 */
export function solarPosition(
  latitudeDeg: number,
  longitudeDeg: number,
  time: Date,
): SolarPosition {
  checkLocation(latitudeDeg, longitudeDeg);
  const t = (julianDay(time) - 2451545) / 36525;
  const l0 = ((280.46646 + t * (36000.76983 + 0.0003032 * t)) % 360 + 360) % 360;
  const m = 357.52911 + t * (35999.05029 - 0.0001537 * t);
  const e = 0.016708634 - t * (0.000042037 + 0.0000001267 * t);
  const center = sinDeg(m) * (1.914602 - t * (0.004817 + 0.000014 * t)) +
    sinDeg(2 * m) * (0.019993 - 0.000101 * t) + sinDeg(3 * m) * 0.000289;
  const omegaNode = 125.04 - 1934.136 * t;
  const lambda = l0 + center - 0.00569 - 0.00478 * sinDeg(omegaNode);
  const meanObliquity = 23 +
    (26 + (21.448 - t * (46.815 + t * (0.00059 - t * 0.001813))) / 60) / 60;
  const obliquity = meanObliquity + 0.00256 * Math.cos(omegaNode * RAD);
  const declination = Math.asin(sinDeg(obliquity) * sinDeg(lambda));
  const y = Math.tan(obliquity * RAD / 2) ** 2;
  const equationOfTimeMin = 4 / RAD * (y * sinDeg(2 * l0) - 2 * e * sinDeg(m) +
    4 * e * y * sinDeg(m) * Math.cos(2 * l0 * RAD) - 0.5 * y * y * sinDeg(4 * l0) -
    1.25 * e * e * sinDeg(2 * m));
  const utcMin = (time.getTime() - Date.UTC(
    time.getUTCFullYear(),
    time.getUTCMonth(),
    time.getUTCDate(),
  )) / 60_000;
  const trueSolarMin = utcMin + equationOfTimeMin + 4 * longitudeDeg;
  // Wrapped to −180..180° so that the hour angle reads naturally on either side of midnight.
  const hourAngleDeg = ((trueSolarMin / 4 - 180) % 360 + 540) % 360 - 180;
  const phi = latitudeDeg * RAD;
  const omega = hourAngleDeg * RAD;
  const cosZenith = Math.max(
    -1,
    Math.min(
      1,
      Math.sin(phi) * Math.sin(declination) +
        Math.cos(phi) * Math.cos(declination) * Math.cos(omega),
    ),
  );
  const zenith = Math.acos(cosZenith);
  const sinZenith = Math.sin(zenith);
  let azimuthDeg: number;
  if (Math.abs(Math.cos(phi) * sinZenith) < 1e-9) {
    // Sun overhead or observer on a pole: the azimuth is undefined; due south/north by convention.
    azimuthDeg = latitudeDeg >= 0 ? 180 : 0;
  } else {
    // cos θ = (sin δ − sin φ cos z) / (cos φ sin z), θ from north, east in the morning.
    const cosAz = (Math.sin(declination) - Math.sin(phi) * cosZenith) /
      (Math.cos(phi) * sinZenith);
    const fromNorth = Math.acos(Math.max(-1, Math.min(1, cosAz))) / RAD;
    azimuthDeg = hourAngleDeg <= 0 ? fromNorth : 360 - fromNorth;
  }
  return {
    elevationDeg: 90 - zenith / RAD,
    zenithDeg: zenith / RAD,
    azimuthDeg,
    declinationDeg: declination / RAD,
    equationOfTimeMin,
    hourAngleDeg,
  };
}

/** Solar elevation, degrees, at a place and UTC time (see solarPosition). */
export function solarElevationDeg(latitudeDeg: number, longitudeDeg: number, time: Date): number {
  return solarPosition(latitudeDeg, longitudeDeg, time).elevationDeg;
}

/**
 * UTC time of solar noon (hour angle 0) on the UTC day of `date`: 12:00 − 4 min · longitude −
 * equation of time (NOAA, as above). The equation of time is taken at the estimate and once
 * more at the result, which settles it to well under a second.
 */
export function solarNoonUtc(longitudeDeg: number, date: Date): Date {
  checkLocation(0, longitudeDeg);
  const midnight = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  let noonMs = midnight + (720 - 4 * longitudeDeg) * 60_000;
  for (let i = 0; i < 2; i++) {
    const eot = solarPosition(0, longitudeDeg, new Date(noonMs)).equationOfTimeMin;
    noonMs = midnight + (720 - 4 * longitudeDeg - eot) * 60_000;
  }
  return new Date(Math.round(noonMs));
}

/** Haurwitz's constants: GHI = A · cos z · exp(−B / cos z), W/m². */
export const HAURWITZ_A_WM2 = 1098;
export const HAURWITZ_B = 0.057;

/**
 * Clear-sky global horizontal irradiance, W/m², from the zenith angle alone (Haurwitz 1945,
 * "Insolation in relation to cloudiness and cloud density", J. Meteorology 2:154–166):
 * GHI = 1098 · cos z · exp(−0.057 / cos z), 0 with the sun below the horizon.
 *
 * Why Haurwitz and not Ineichen–Perez: Ineichen–Perez needs a Linke turbidity per place and
 * month (a gridded climatology Kasi does not ship) and a site altitude; without them it is no
 * better than a fixed guess. Reno, Hansen & Stein (2012, Sandia SAND2012-2389, "Global
 * Horizontal Irradiance Clear Sky Models: Implementation and Analysis") found Haurwitz among the
 * most accurate of the models that need only the sun's position. Its limits: it knows no
 * aerosol, water vapour or altitude, so it reads high in dust (Harmattan) and low on high
 * plateaux; tests/core/solar_test.ts measures how much at Bauchi.
 */
export function clearSkyGhiWm2(zenithDeg: number): number {
  const cosZ = Math.cos(zenithDeg * RAD);
  if (!(cosZ > 0)) return 0;
  return HAURWITZ_A_WM2 * cosZ * Math.exp(-HAURWITZ_B / cosZ);
}

/** Sub-steps of clearSkyMeanGhiWm2: 5 min resolves sunrise and sunset within an hour. */
const MEAN_SUBSTEPS_PER_HOUR = 12;

/**
 * Mean clear-sky GHI, W/m², over [start, start + durationS): the midpoint rule on 5-minute
 * sub-steps. An hourly mean is what measurements and Open-Meteo report, and at sunrise it is
 * not the value at the hour's middle.
 */
export function clearSkyMeanGhiWm2(
  location: { latitude: number; longitude: number },
  options: { start: Date; durationS: number },
): number {
  const { start, durationS } = options;
  if (!(durationS > 0)) throw new RangeError(`durationS: ${durationS} must be > 0`);
  const n = Math.max(1, Math.ceil(durationS / 3600 * MEAN_SUBSTEPS_PER_HOUR));
  const stepMs = durationS * 1000 / n;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const t = new Date(start.getTime() + (i + 0.5) * stepMs);
    sum += clearSkyGhiWm2(solarPosition(location.latitude, location.longitude, t).zenithDeg);
  }
  return sum / n;
}

/**
 * Fraction of clear-sky GHI that reaches the ground under a cloud cover fraction C (0..1):
 * 1 − 0.75 · C^3.4 (Kasten & Czeplak 1980, "Solar and terrestrial radiation dependent on the
 * amount and type of cloud", Solar Energy 24:177–189, fitted on ten years of Hamburg data).
 * 0 % → 1, 50 % → 0.929, 75 % → 0.718, 100 % → 0.25.
 */
export function kastenCzeplakFactor(cloudFraction: number): number {
  if (!(cloudFraction >= 0 && cloudFraction <= 1)) {
    throw new RangeError(`cloud fraction: ${cloudFraction} is not within 0..1`);
  }
  return 1 - 0.75 * cloudFraction ** 3.4;
}

/** GHI under clouds from the clear-sky GHI and a cloud cover in percent (Kasten–Czeplak). */
export function cloudyGhiWm2(clearGhiWm2: number, cloudPct: number): number {
  return clearGhiWm2 * kastenCzeplakFactor(cloudPct / 100);
}
