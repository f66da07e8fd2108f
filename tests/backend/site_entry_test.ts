import assert from "node:assert/strict";
import { SiteEntry } from "../../src/backend/site_entry.ts";
import { defaultV1Profile } from "../../src/backend/site_state.ts";

Deno.test("SiteEntry reads back the planner's notes it holds as numbers, null as null", () => {
  const site = new SiteEntry("tower-7", "v1", "online");
  assert.equal(site.advisedOn, null);
  assert.equal(site.lastCommand, null);
  assert.equal(site.lastSeq, null);
  assert.equal(site.fuelTriedAtMs, null);
  const profile = defaultV1Profile("tower-7");
  const basis = {
    atMs: Date.UTC(2026, 10, 20, 10, 15),
    socPct: 62.5,
    fuelPct: null,
    source: "generator" as const,
    genRunning: true,
    shedTier: 0,
    storedProfile: profile,
  };
  site.advisedOn = basis;
  assert.deepEqual(site.advisedOn, basis);
  // The profile is the same object: the planner compares its identity (a replaced profile).
  assert.equal(site.advisedOn!.storedProfile, profile);
  site.lastCommand = { seq: 4_294_967_296, issuedAtMs: basis.atMs, validUntilMs: basis.atMs + 1 };
  assert.deepEqual(site.lastCommand, {
    seq: 4_294_967_296,
    issuedAtMs: basis.atMs,
    validUntilMs: basis.atMs + 1,
  });
  site.lastSeq = 0;
  site.sentAtWallMs = 1.5;
  assert.equal(site.lastSeq, 0);
  assert.equal(site.sentAtWallMs, 1.5);
  site.advisedOn = null;
  site.lastCommand = null;
  assert.equal(site.advisedOn, null);
  assert.equal(site.lastCommand, null);
});
