// Copyright 2026 the buffered-framing authors. MIT license.
// Correctness at scale: many clients at once, every reply checked. Fairness
// and speed at scale are timing properties: they belong in bench/, not here.

import assert from "node:assert/strict";
import { BufferedClient } from "../client.ts";
import { HOST, startServer } from "./_helpers.ts";

const CLIENTS = 1000;
const EXCHANGES = 5;
/** Clients connecting at once: below the listen backlog, so no SYN waits for a retry. */
const CONNECTING = 100;

Deno.test("1,000 clients connected at once each complete 5 exchanges, every reply checked", async () => {
  await using s = startServer(1024, { maxConnections: CLIENTS });
  const clients: BufferedClient[] = [];
  try {
    for (let first = 0; first < CLIENTS; first += CONNECTING) {
      const batch = Array.from(
        { length: Math.min(CONNECTING, CLIENTS - first) },
        () => BufferedClient.connect(HOST, s.port, 1024),
      );
      clients.push(...await Promise.all(batch));
    }
    // Every client is connected before the first request: all 1,000 are served at once.
    await Promise.all(clients.map(async (client, i) => {
      for (let exchange = 0; exchange < EXCHANGES; exchange++) {
        const text = `client ${i} exchange ${exchange} ${"é".repeat(i % 7)}`;
        await client.sendMessage(`0123456789${text}`);
        assert.deepEqual(await client.receiveMessage(), [text, true]);
      }
    }));
    assert.equal(s.server.stats().framesReceived, CLIENTS * EXCHANGES);
    assert.equal(s.server.connectionCount, CLIENTS);
  } finally {
    for (const client of clients) client.shutdown();
  }
});
