// Copyright 2026 the buffered-framing authors. MIT license.
// The server process out of file descriptors: the accept loop backs off and
// logs once, instead of retrying at once (a full core, a flood of lines), and
// serves the clients that waited once descriptors free.

import assert from "node:assert/strict";
import { BufferedClient } from "../client.ts";
import { HOST, startServerProcess } from "./_helpers.ts";
import { guard } from "./_faults.ts";

/**
 * Deno itself holds a couple of dozen descriptors, so a limit of 40 leaves
 * room for about 16 connections: 60 clients exhaust it, and the 10 left once
 * 50 have gone fit.
 */
const OPEN_FILE_LIMIT = 40;
const CLIENTS = 60;
const LEAVING = 50;

Deno.test("out of file descriptors, the accept loop logs one line per episode and serves every waiting client once descriptors free", async () => {
  const [server, port] = await startServerProcess({
    flags: ["--max-connections", "1000"],
    openFileLimit: OPEN_FILE_LIMIT,
  });
  await using _ = server;
  // The kernel completes each connection in the listen backlog whether or
  // not the server can accept it.
  const clients: BufferedClient[] = [];
  try {
    for (let i = 0; i < CLIENTS; i++) clients.push(await BufferedClient.connect(HOST, port, 64));
    // The last client cannot have been accepted while the others hold every
    // descriptor: its request waits. Closing the first 50 frees descriptors,
    // and the loop must then accept the rest and answer them all.
    const last = clients[CLIENTS - 1];
    await last.sendMessage("0123456789waited");
    for (const client of clients.splice(0, LEAVING)) client.shutdown();
    assert.deepEqual(await guard(last.receiveMessage(), "the waiting client's reply"), [
      "waited",
      true,
    ]);
    for (const [i, client] of clients.entries()) {
      await client.sendMessage(`0123456789client ${i}`);
      assert.deepEqual(await client.receiveMessage(), [`client ${i}`, true]);
    }
  } finally {
    for (const client of clients) client.shutdown();
  }
  server.child.kill("SIGTERM");
  const outcome = await server.finish();
  assert.equal(outcome.code, 0, outcome.stderr);
  const lines = outcome.stderr.split("\n");
  const failed = lines.filter((line) => line.startsWith("accept failed: "));
  assert.equal(failed.length, 1, `one line for the episode, got ${failed.length}`);
  assert.match(failed[0], /Too many open files/);
  const summaries = lines.filter((line) => line.startsWith("accept recovered: "));
  assert.equal(summaries.length, 1, outcome.stderr);
  assert.match(summaries[0], /^accept recovered: it had failed \d+ times? over \d+ ms$/);
  assert.equal(lines.filter((line) => line.endsWith(" connected")).length, CLIENTS);
});
