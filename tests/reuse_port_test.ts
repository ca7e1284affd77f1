// Copyright 2026 the buffered-framing authors. MIT license.
// Scale-out on one machine: server processes sharing a port with reusePort
// (SO_REUSEPORT), and the clear error when Deno's --unstable-net is missing.

import assert from "node:assert/strict";
import { BufferedClient } from "../client.ts";
import { BufferedServer } from "../server.ts";
import { framesAnswered, HOST, modulePath, spawnDeno, startServerProcess } from "./_helpers.ts";

/** Enough connections that the kernel's hash sends some to each process (all to one: 2^-39). */
const CONNECTIONS = 40;

Deno.test("two server processes started with --reuse-port share one port and both serve", async () => {
  const shared = ["--reuse-port", "--max-connections", `${CONNECTIONS}`];
  const [first, port] = await startServerProcess({
    denoFlags: ["--unstable-net", `--allow-net=${HOST}:0`],
    flags: shared,
  });
  await using _first = first;
  const [second, secondPort] = await startServerProcess({
    port,
    denoFlags: ["--unstable-net", `--allow-net=${HOST}:${port}`],
    flags: shared,
  });
  await using _second = second;
  assert.equal(secondPort, port);

  await Promise.all(Array.from({ length: CONNECTIONS }, async (_, i) => {
    await using client = await BufferedClient.connect(HOST, port, 64);
    await client.sendMessage(`0123456789client ${i}`);
    assert.deepEqual(await client.receiveMessage(), [`client ${i}`, true]);
  }));

  first.child.kill("SIGTERM");
  second.child.kill("SIGTERM");
  const answered = [];
  for (const server of [first, second]) {
    const outcome = await server.finish();
    assert.equal(outcome.code, 0, outcome.stderr);
    answered.push(framesAnswered(outcome.stderr));
  }
  assert.equal(answered[0] + answered[1], CONNECTIONS, `answered: ${answered}`);
  assert.ok(answered.every((count) => count > 0), `one process served nothing: ${answered}`);
});

Deno.test("reusePort without --unstable-net throws a TypeError that names the flag", () => {
  // This test process runs without --unstable-net, where Deno itself would
  // exit the process on the option instead of throwing.
  assert.throws(
    () => new BufferedServer(HOST, 0, 64, { reusePort: true }),
    (error: unknown) => error instanceof TypeError && /--unstable-net/.test(error.message),
  );
});

Deno.test("reusePort with a Unix socket throws a TypeError", () => {
  assert.throws(
    () => new BufferedServer("", 0, 64, { transport: "unix", path: "x.sock", reusePort: true }),
    (error: unknown) => error instanceof TypeError && /tcp transport only/.test(error.message),
  );
});

Deno.test("server --reuse-port without --unstable-net exits 1 and says which flag is missing", async () => {
  await using server = spawnDeno([
    `--allow-net=${HOST}:0`,
    modulePath("server.ts"),
    "--hostname",
    HOST,
    "--port",
    "0",
    "--reuse-port",
  ]);
  const outcome = await server.finish();
  assert.equal(outcome.code, 1, outcome.stderr);
  assert.equal(outcome.stdout, "");
  assert.match(outcome.stderr, /^error: TypeError: .*--unstable-net/);
});
