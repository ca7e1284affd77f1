// Copyright 2026 the buffered-framing authors. MIT license.
// The test helpers' own promises: a helper that hangs fails every test that uses it.

import assert from "node:assert/strict";
import { spawnDeno } from "./_helpers.ts";

const ECHO_CHILD = "data:application/typescript," +
  encodeURIComponent("await Deno.stdin.readable.pipeTo(Deno.stdout.writable);");

Deno.test("spawnDeno's finish() reads the output while the input drains: a child echoing 4 MiB does not deadlock", async () => {
  const input = "x".repeat(4 << 20);
  await using child = spawnDeno([ECHO_CHILD], input);
  const outcome = await child.finish();
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.equal(outcome.stdout.length, input.length);
});
