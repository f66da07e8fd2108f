import assert from "node:assert/strict";
import {
  profileFromWire,
  profileToWire,
  type SiteProfile,
  SiteProfileSchema,
  SiteProfileWireSchema,
} from "../../src/core/site_profile.ts";

const KANO: SiteProfile = {
  siteId: "kano-1",
  chemistry: "lifepo4",
  nominalV: 48,
  capacityWh: 15_000,
  reserveSocPct: 30,
  tankL: 300,
  generatorRatedKw: 8,
  pvKwp: 5,
  latitude: 12.0,
  longitude: 8.52,
  timeZone: "Africa/Lagos",
};

Deno.test("profileToWire() and profileFromWire() carry the optional weather_source both ways", () => {
  const chosen: SiteProfile = { ...KANO, weatherSource: "openweathermap" };
  const wire = profileToWire(chosen);
  assert.equal(wire.weather_source, "openweathermap");
  assert.deepEqual(profileFromWire(SiteProfileWireSchema.parse(wire)), chosen);
  // Unset stays unset: no key at all, so older backends and stored profiles see no change.
  const plain = profileToWire(KANO);
  assert.equal("weather_source" in plain, false);
  assert.equal("weatherSource" in profileFromWire(plain), false);
  // A stored profile (JSON in sites.profile) keeps the choice through SiteProfileSchema.
  assert.equal(SiteProfileSchema.parse(chosen).weatherSource, "openweathermap");
});

Deno.test("SiteProfileWireSchema names a weather_source it does not know", () => {
  const result = SiteProfileWireSchema.safeParse({
    ...profileToWire(KANO),
    weather_source: "metno",
  });
  assert.equal(result.success, false);
  assert.deepEqual(result.error!.issues[0]!.path, ["weather_source"]);
});
