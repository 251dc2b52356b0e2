/** The shared mocks runner: what it records, and what it refuses. */
import * as crypto from "crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { renderRun } from "../../cli/render";
import { RecordedResource, SecretValue, runProgram } from "../../cli/runner";

const base = { project: "monitoring", stack: "test", config: {}, secretKeys: [] };

test("fails on a duplicate URN, as the engine would", async () => {
  await expect(
    runProgram({
      ...base,
      program: async () => {
        new k8s.core.v1.ConfigMap("same", { metadata: { name: "a" } });
        new k8s.core.v1.ConfigMap("same", { metadata: { name: "b" } });
        return {};
      },
    }),
  ).rejects.toThrow(/duplicate URN.*kubernetes:core\/v1:ConfigMap::same/);
});

test("records inputs with their secrets, and redacts them unless asked", async () => {
  const run = await runProgram({
    ...base,
    program: async () => {
      const s = new k8s.core.v1.Secret("s", {
        metadata: { name: "creds", labels: { "app.kubernetes.io/name": "demo" } },
        stringData: { token: pulumi.secret("hunter2") },
      });
      return { token: pulumi.secret("hunter2"), name: s.metadata.name };
    },
  });
  expect(run.outputs).toEqual({ token: new SecretValue("hunter2"), name: "creds" });
  expect(renderRun(run, false).kubernetes[0].object.stringData).toEqual({ token: "[secret]" });
  expect(renderRun(run, false).outputs.token).toBe("[secret]");
  expect(renderRun(run, true).files.get("stack/token")).toBe("hunter2");
});

test("waits, as the engine does, for a resource whose input resolves later (work on Node's thread pool)", async () => {
  const run = await runProgram({
    ...base,
    program: async () => {
      // Resolves after the program returned, once the thread pool is done: nothing registers until then.
      const later = pulumi.output(
        new Promise<string>((resolve) => crypto.scrypt("p", "s", 8, { N: 2 ** 14 }, () => setTimeout(() => resolve("late"), 50))),
      );
      new k8s.core.v1.ConfigMap("late", { metadata: { name: later } });
      return {};
    },
  });
  expect(run.resources.map((r) => r.name)).toEqual(["late"]);
});

test("collects the warnings a program logs", async () => {
  const run = await runProgram({
    ...base,
    program: async () => {
      pulumi.log.warn("careful");
      return {};
    },
  });
  expect(run.warnings).toEqual(["careful"]);
});

test("refuses to run two programs at once", async () => {
  const first = runProgram({ ...base, program: async () => ({}) });
  await expect(runProgram({ ...base, program: async () => ({}) })).rejects.toThrow(/not re-entrant/);
  await first;
});

test("a random password's bcrypt hash verifies against the password, and both are stable", async () => {
  const random = await import("@pulumi/random");
  const bcrypt = await import("bcryptjs");
  const program = async () => {
    const p = new random.RandomPassword("pw", { length: 24 });
    return { result: p.result, hash: p.bcryptHash };
  };
  const first = await runProgram({ ...base, program });
  const second = await runProgram({ ...base, program });
  const { result, hash } = renderRun(first, true).outputs as { result: string; hash: string };
  expect(result).toHaveLength(24);
  expect(bcrypt.compareSync(result, hash)).toBe(true);
  expect(renderRun(second, true).outputs).toEqual({ result, hash });
});

test("a Cloudflare tunnel gets a UUID id, stable per resource and distinct between resources", async () => {
  const cloudflare = await import("@pulumi/cloudflare");
  const program = async () => {
    const a = new cloudflare.ZeroTrustTunnelCloudflared("a", { accountId: "0".repeat(32), name: "a" });
    const b = new cloudflare.ZeroTrustTunnelCloudflared("b", { accountId: "0".repeat(32), name: "b" });
    return { a: a.id, b: b.id };
  };
  const first = await runProgram({ ...base, program });
  const second = await runProgram({ ...base, program });
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/;
  expect(first.outputs.a).toMatch(uuid);
  expect(first.outputs.b).toMatch(uuid);
  expect(first.outputs.a).not.toBe(first.outputs.b);
  expect(second.outputs).toEqual(first.outputs);
});

describe("a StackReference to the stack itself", () => {
  const program = async () => {
    const self = new pulumi.StackReference("self", { name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}` });
    return { previous: (await self.getOutputDetails("volumes")).value ?? "none" };
  };

  test("reads no outputs by default (a first deployment), in a DIY backend's organization", async () => {
    const run = await runProgram({ ...base, program });
    expect(run.outputs).toEqual({ previous: "none" });
    expect(run.reads.map((r) => [r.type, r.inputs.name])).toEqual([["pulumi:pulumi:StackReference", "organization/monitoring/test"]]);
    expect(run.resources).toEqual([]);
  });

  test("reads the previous outputs it is given", async () => {
    const run = await runProgram({ ...base, program, previousOutputs: { volumes: { prometheus: { size: "10Gi" } } } });
    expect(run.outputs).toEqual({ previous: { prometheus: { size: "10Gi" } } });
  });

  test("an output given as a SecretValue comes back as the engine returns a secret output: in secretValue, not value", async () => {
    const details = async () => {
      const self = new pulumi.StackReference("self", { name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}` });
      const [hidden, plain] = [await self.getOutputDetails("salt"), await self.getOutputDetails("volumes")];
      return { hidden: { value: hidden.value ?? "none", secretValue: hidden.secretValue ?? "none" }, plain: plain.value };
    };
    const run = await runProgram({ ...base, program: details, previousOutputs: { salt: new SecretValue("c2FsdA=="), volumes: {} } });
    expect(run.outputs).toEqual({ hidden: { value: "none", secretValue: "c2FsdA==" }, plain: {} });
  });

  test("the journal keeps what was registered and read, in order, when the program then fails", async () => {
    const journal: RecordedResource[] = [];
    const failing = async () => {
      await program();
      new k8s.core.v1.ConfigMap("after", { metadata: { name: "after" } });
      throw new Error("refused");
    };
    await expect(runProgram({ ...base, program: failing, journal })).rejects.toThrow("refused");
    expect(journal.map((r) => r.type)).toEqual(["pulumi:pulumi:StackReference", "kubernetes:core/v1:ConfigMap"]);
  });
});
