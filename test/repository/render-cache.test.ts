/**
 * The tests' render cache (test/support/render-cache.ts): a kept render is the render, to the
 * prototype, each caller gets its own copy, and what the render depends on beyond its arguments
 * (the environment) makes another render.
 */
import { renderStack as renderStackNow } from "../../cli/render-stack";
import { cachedRender, decode, encode, renderStore } from "../support/render-cache";
import { render, renderConfig } from "../support/render";

test("a kept stack render equals a fresh one, Maps, undefined values and prototypes included, and each caller gets its own copy", async () => {
  const fresh = await renderStackNow({ stack: "staging", sets: [], showSecrets: true });
  const first = await render("staging");
  const second = await render("staging");
  expect(first).toStrictEqual(fresh);
  expect(second).toStrictEqual(fresh);
  expect(second.files).toBeInstanceOf(Map);
  // A test that changes what it got changes no other test's copy.
  first.kubernetes.length = 0;
  first.files.clear();
  expect((await render("staging")).kubernetes).toHaveLength(fresh.kubernetes.length);
});

test("the same arguments render once per worker; other arguments, or another environment, render again", async () => {
  let renders = 0;
  const make = () => {
    renders++;
    return Promise.resolve({ n: renders, files: new Map([["a", "b"]]), gone: undefined, bytes: Buffer.from("x") });
  };
  const stack = `cache-test-${process.pid}-${Date.now()}`;
  const a = await cachedRender("test", stack, { sets: ["x=1"] }, make);
  expect(await cachedRender("test", stack, { sets: ["x=1"] }, make)).toStrictEqual(a);
  expect(renders).toBe(1);
  await cachedRender("test", stack, { sets: ["x=2"] }, make);
  expect(renders).toBe(2);
  process.env.RENDER_CACHE_TEST = "changed";
  try {
    expect((await cachedRender("test", stack, { sets: ["x=1"] }, make)).n).toBe(3);
  } finally {
    delete process.env.RENDER_CACHE_TEST;
  }
  expect(renderStore().hits).toBeGreaterThan(0);
});

test("an inline config's render is kept too, by its config", async () => {
  const config = { domain: "cache.example.com" };
  const first = await renderConfig("staging", config);
  const store = renderStore();
  const misses = store.misses;
  expect(await renderConfig("staging", config)).toStrictEqual(first);
  expect(store.misses).toBe(misses);
  await renderConfig("staging", { domain: "other.example.com" });
  expect(store.misses).toBe(misses + 1);
});

test("a value JSON would not give back as it was is refused, not kept changed", () => {
  expect(() => encode({ when: new Date(0) })).toThrow("render-cache: cannot keep a Date instance");
  class Secretish {
    value = 1;
  }
  expect(() => encode([new Secretish()])).toThrow("cannot keep a Secretish instance");
  expect(decode(encode({ m: new Map([["k", [undefined, 1]]]) }))).toStrictEqual({ m: new Map([["k", [undefined, 1]]]) });
});
