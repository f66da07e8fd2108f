/**
 * Which sensors the agent may use this tick. A driver lists the fitted sensors it could not read
 * (`SensorReadings.invalid`); this tracks them across ticks so each fault is reported once when it
 * starts and once when it ends (not every 10 s), and hands the agent readings in which every
 * invalid sensor is null, whatever value the driver left in its field. Digital inputs (door,
 * mains present) are reported when they change.
 */
import {
  REQUIRED_SENSORS,
  SENSOR_NAMES,
  type SensorFault,
  type SensorName,
  type SensorReadings,
} from "./driver.ts";

export type SensorReportKind = "sensor-invalid" | "sensor-recovered" | "input-changed";

export interface SensorReport {
  kind: SensorReportKind;
  detail: string;
  values: Record<string, string | number | boolean | null>;
}

export interface SensorCheck {
  /** The readings with every invalid sensor null. */
  readings: SensorReadings;
  /** Required sensors without a measurement: the decision must be withheld while non-empty. */
  missing: SensorName[];
  /** What changed since the previous tick, to publish as events. */
  reports: SensorReport[];
}

/** The telemetry field of a sensor: batteryTempC → battery_temp_c. */
export function wireSensorName(name: SensorName): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

export class SensorHealth {
  #invalid = new Map<SensorName, { since: Date; reason: string }>();
  #inputs: Readonly<Record<string, boolean | null>> | null = null;

  /** The sensors invalid now, with when they became so. */
  get invalid(): SensorFault[] {
    return [...this.#invalid].map(([sensor, f]) => ({ sensor, reason: f.reason }));
  }

  update(readings: SensorReadings, now: Date): SensorCheck {
    const faults = new Map<SensorName, string>();
    for (const f of readings.invalid ?? []) faults.set(f.sensor, f.reason);
    // A required sensor without a value and without a reason is a driver bug; never use it.
    for (const name of REQUIRED_SENSORS) {
      if (readings[name] === null && !faults.has(name)) faults.set(name, "no reading");
    }
    const clean: SensorReadings = { ...readings, invalid: [...faults].map(toFault) };
    const reports: SensorReport[] = [];
    for (const name of SENSOR_NAMES) {
      const reason = faults.get(name);
      const was = this.#invalid.get(name);
      if (reason !== undefined) {
        (clean as unknown as Record<SensorName, null>)[name] = null;
        if (was) continue;
        this.#invalid.set(name, { since: now, reason });
        const required = REQUIRED_SENSORS.includes(name);
        reports.push({
          kind: "sensor-invalid",
          detail: `${wireSensorName(name)} invalid: ${reason}` +
            (required ? "; decisions withheld until it reads again" : "; treated as not fitted"),
          values: { sensor: wireSensorName(name), reason, required },
        });
      } else if (was) {
        this.#invalid.delete(name);
        reports.push({
          kind: "sensor-recovered",
          detail: `${wireSensorName(name)} reads again (invalid since ${was.since.toISOString()})`,
          values: { sensor: wireSensorName(name), invalid_since: was.since.toISOString() },
        });
      }
    }
    reports.push(...this.#inputChanges(readings.inputs ?? null));
    const missing = REQUIRED_SENSORS.filter((name) => faults.has(name));
    return { readings: clean, missing, reports };
  }

  #inputChanges(inputs: Readonly<Record<string, boolean | null>> | null): SensorReport[] {
    const before = this.#inputs;
    this.#inputs = inputs;
    // The first reading is the starting point, not a change.
    if (before === null || inputs === null) return [];
    return Object.entries(inputs).filter(([name, state]) => before[name] !== state).map((
      [name, state],
    ) => ({
      kind: "input-changed" as const,
      detail: `input ${name}: ${show(before[name] ?? null)} → ${show(state)}`,
      values: { input: name, state, was: before[name] ?? null },
    }));
  }
}

function toFault([sensor, reason]: [SensorName, string]): SensorFault {
  return { sensor, reason };
}

function show(state: boolean | null): string {
  return state === null ? "unreadable" : state ? "active" : "inactive";
}
