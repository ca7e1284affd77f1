// Copyright 2026 the buffered-framing authors. MIT license.
// The services under examples/, run as their READMEs say, with exactly
// scoped permissions, and checked from a client.

import assert from "node:assert/strict";
import { BufferedClient } from "../client.ts";
import { HOST, modulePath, spawnDeno, type Subprocess } from "./_helpers.ts";

/** Starts `examples/NAME` on a free port (picked by binding port 0 first) and returns it with the port. */
async function startExample(name: string): Promise<[Subprocess, number]> {
  // The example prints "listening on PORT"; with --port 0 it needs permission for port 0.
  const service = spawnDeno([
    `--allow-net=${HOST}:0`,
    modulePath(`examples/${name}`),
    "--port",
    "0",
  ]);
  const line = await service.readLine();
  const match = line?.match(/^listening on (\d+)$/);
  if (!match) {
    await service[Symbol.asyncDispose]();
    throw new Error(`unexpected first line of ${name}: ${line}`);
  }
  return [service, Number(match[1])];
}

Deno.test("examples/binary_echo.ts echoes bytes that are not UTF-8 exactly, then stops on SIGTERM", async () => {
  const [service, port] = await startExample("binary_echo.ts");
  await using _ = service;
  {
    await using client = await BufferedClient.connect(HOST, port);
    const payloads = [
      new Uint8Array([0xff, 0xfe, 0x00, 0x80]),
      new Uint8Array(0),
      Uint8Array.from({ length: 200_000 }, (_, i) => (i * 131) & 0xff),
    ];
    for (const payload of payloads) await client.sendMessage(payload);
    for (const payload of payloads) assert.deepEqual(await client.receiveBytes(), [payload, true]);
  }
  service.child.kill("SIGTERM");
  const outcome = await service.finish();
  assert.equal(outcome.code, 0, outcome.stderr);
});

Deno.test("examples/json_client.ts gets each JSON reply of examples/json_service.ts, in order", async () => {
  const [service, port] = await startExample("json_service.ts");
  await using _ = service;
  await using client = spawnDeno([
    `--allow-net=${HOST}:${port}`,
    modulePath("examples/json_client.ts"),
    "--port",
    `${port}`,
    '{"op":"add","a":2,"b":3}',
    '{"op":"upper","text":"héllo"}',
    "not json",
    '{"op":"divide"}',
  ]);
  const outcome = await client.finish();
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.equal(
    outcome.stdout,
    '{"result":5}\n{"result":"HÉLLO"}\n{"error":"not JSON"}\n{"error":"unknown op: \\"divide\\""}\n',
  );
  service.child.kill("SIGTERM");
  assert.equal((await service.finish()).code, 0);
});
