// Copyright 2026 the buffered-framing authors. MIT license.
// The permission set of deno.json that `deno test -P` runs the suite with.

import assert from "node:assert/strict";
import { modulePath } from "./_helpers.ts";

const CONFIG = modulePath("deno.json");
const ROOT = modulePath("");

/** What the suite needs: every one must be granted under `deno test -P`. */
const GRANTED: Deno.PermissionDescriptor[] = [
  { name: "net", host: "127.0.0.1" },
  { name: "net", host: "localhost" },
  { name: "net", host: "[::1]" },
  { name: "run", command: Deno.execPath() },
  { name: "read", path: modulePath("README.md") },
  { name: "read", path: modulePath("tests/fixtures/ca.crt") },
  { name: "read", path: "/tmp" },
  { name: "read", path: "/proc" },
  { name: "write", path: "/tmp" },
  { name: "env", variable: "FRAMING_SEED" },
  { name: "env", variable: "FAULTS_SEED" },
];

/** What the suite has no business with: none may be granted. */
const NOT_GRANTED: Deno.PermissionDescriptor[] = [
  // A checkout inside /tmp is writable through /tmp.
  ...ROOT.startsWith("/tmp/") ? [] : [{ name: "write", path: ROOT } as const],
  { name: "read", path: "/etc" },
  { name: "env" },
  { name: "sys" },
  { name: "ffi" },
];

/** Runs `deno test ...args` on a one-test module that prints the state of each descriptor. */
async function probe(
  args: string[],
  descriptors: Deno.PermissionDescriptor[],
): Promise<{ code: number; states: string[] | undefined; stderr: string }> {
  const dir = await Deno.makeTempDir({ prefix: "buffered-framing-" });
  try {
    const file = `${dir}/probe_test.ts`;
    await Deno.writeTextFile(
      file,
      `Deno.test("probe", () => {
        const descriptors: Deno.PermissionDescriptor[] = ${JSON.stringify(descriptors)};
        const states = descriptors.map((d) => Deno.permissions.querySync(d).state);
        console.log("STATES " + JSON.stringify(states));
      });\n`,
    );
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["test", ...args, "--config", CONFIG, file],
      cwd: ROOT,
      stdin: "null",
      env: { NO_COLOR: "1" },
    }).output();
    const line = new TextDecoder().decode(stdout).split("\n").find((l) => l.startsWith("STATES "));
    return {
      code,
      states: line === undefined ? undefined : JSON.parse(line.slice("STATES ".length)),
      stderr: new TextDecoder().decode(stderr),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("deno test -P grants the suite what it needs from deno.json, and no more", async () => {
  const descriptors = [...GRANTED, ...NOT_GRANTED];
  const { code, states, stderr } = await probe(["-P"], descriptors);
  assert.equal(code, 0, stderr);
  assert.ok(states !== undefined, stderr);
  descriptors.forEach((descriptor, i) => {
    const expected = i < GRANTED.length ? "granted" : "not granted";
    const actual = states[i] === "granted" ? "granted" : "not granted";
    assert.equal(actual, expected, JSON.stringify(descriptor));
  });
});

Deno.test("bare deno test stops before running anything and asks for -P", async () => {
  const { code, states, stderr } = await probe([], GRANTED);
  assert.notEqual(code, 0);
  assert.equal(states, undefined);
  assert.match(stderr, /-P/);
});
