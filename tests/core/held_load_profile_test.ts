import assert from "node:assert/strict";
import { heldLoadProfile } from "../../src/core/held_load_profile.ts";
import {
  forecastLoad,
  newLoadProfile,
  plainLoadProfile,
  updateLoadProfile,
} from "../../src/core/load_forecast.ts";

Deno.test("heldLoadProfile() reads back every field and learns on exactly as the plain profile", () => {
  const fresh = newLoadProfile({ utcOffsetMin: 180 });
  assert.deepEqual(plainLoadProfile(heldLoadProfile(fresh)), fresh);
  // Three days of a 600 W night and 1 400 W day, one sample every 10 minutes, learned twice:
  // plain from start to end, and held between every two samples as the backend does.
  let plain = fresh, held = heldLoadProfile(fresh);
  const start = Date.UTC(2026, 10, 20);
  for (let i = 0; i < 3 * 144; i++) {
    const time = new Date(start + i * 600_000);
    const hour = (time.getUTCHours() + 3) % 24;
    const sample = { time, loadW: hour >= 8 && hour < 18 ? 1400 : 600 };
    plain = updateLoadProfile(plain, sample);
    held = heldLoadProfile(updateLoadProfile(held, sample));
  }
  assert.notEqual(plain.buckets, null, "hours were learned");
  assert.deepEqual(plainLoadProfile(held), plainLoadProfile(plain));
  const noon = new Date(start + 3 * 86_400_000 + 9 * 3_600_000);
  assert.deepEqual(forecastLoad(held, noon), forecastLoad(plain, noon));
  assert.equal(heldLoadProfile(held), held, "a held profile is not wrapped twice");
});
