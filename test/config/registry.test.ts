/**
 * The registry of sections (components/stack/sections.ts), the one place the components are listed:
 * the resolve loop takes each section after the sections it needs, and the secret keys are the
 * sections' own, gathered from it (config/secrets.ts), each with its owner's schema and stand-in.
 */
import { z } from "zod";
import { RESOLVE_ORDER, SECTION_ENTRIES } from "../../components/stack/sections";
import { SECRET_KEYS, SECRET_STAND_INS } from "../../config";
import { secretKeySchemas } from "../../config/secrets";

test("the loop resolves every section once, each after the sections it needs", () => {
  expect([...RESOLVE_ORDER].sort()).toEqual(SECTION_ENTRIES.map(([name]) => name).sort());
  const late = SECTION_ENTRIES.flatMap(([name, section]) =>
    (section.needs ?? [])
      .filter((needed) => RESOLVE_ORDER.indexOf(needed as never) > RESOLVE_ORDER.indexOf(name))
      .map((n) => `${name} before ${n}`),
  );
  expect(late).toEqual([]);
});

test("the secret keys are the sections' own, each once, with its owner's schema and stand-in", () => {
  const owned = SECTION_ENTRIES.flatMap(([name, section]) => Object.keys(section.secrets ?? {}).map((key) => ({ key, name, section })));
  expect([...SECRET_KEYS].sort()).toEqual(owned.map(({ key }) => key).sort());
  for (const { key, section } of owned) {
    const k = key as (typeof SECRET_KEYS)[number];
    expect({ key, schema: secretKeySchemas[k] === (section.secrets as Record<string, z.ZodType>)[key] }).toEqual({ key, schema: true });
    expect({ key, standIn: SECRET_STAND_INS[k] === section.standIns?.[key] }).toEqual({ key, standIn: true });
  }
});
