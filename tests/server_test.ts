// Copyright 2026 the buffered-framing authors. MIT license.
// BufferedServer and BufferedClient together, over loopback. Both sides use a
// 16-byte buffer unless a test says otherwise, so that frames really arrive
// in pieces.

import assert from "node:assert/strict";
import { BufferedClient } from "../client.ts";
import { BufferedServer } from "../server.ts";
import {
  concat,
  frame,
  HOST,
  logEvents,
  readExactly,
  readFrame,
  readToEnd,
  spawnDeno,
  startServer,
  utf8,
  writeAll,
} from "./_helpers.ts";

const BUFFER_SIZE = 16;

function connect(port: number): Promise<BufferedClient> {
  return BufferedClient.connect(HOST, port, BUFFER_SIZE);
}

/** Sends `message` and returns the reply. */
async function exchange(client: BufferedClient, message: string): Promise<[string, boolean]> {
  await client.sendMessage(message);
  return await client.receiveMessage();
}

// The assignment's grading scenarios.

Deno.test("a short message that fits the buffer is answered minus its first 10 characters", async () => {
  await using s = startServer(BUFFER_SIZE);
  await using client = await connect(s.port);
  // 4 + 12 bytes: exactly one buffer.
  assert.deepEqual(await exchange(client, "0123456789hi"), ["hi", true]);
});

Deno.test("a medium message slightly longer than the buffer is answered whole", async () => {
  await using s = startServer(BUFFER_SIZE);
  await using client = await connect(s.port);
  // 4 + 20 bytes: the frame spans two buffers.
  assert.deepEqual(await exchange(client, "Four score and seven"), [" and seven", true]);
});

Deno.test("a long message several times the buffer is answered whole", async () => {
  await using s = startServer(BUFFER_SIZE);
  await using client = await connect(s.port);
  const message = Array.from({ length: 20 }, (_, i) => `line ${i}: the quick brown fox.`).join(" ");
  assert.ok(message.length > 10 * BUFFER_SIZE);
  assert.deepEqual(await exchange(client, message), [message.slice(10), true]);
});

Deno.test("three messages in series each get their own reply", async () => {
  await using s = startServer(BUFFER_SIZE);
  await using client = await connect(s.port);
  assert.deepEqual(await exchange(client, "0123456789first"), ["first", true]);
  assert.deepEqual(await exchange(client, "0123456789the second one"), ["the second one", true]);
  assert.deepEqual(await exchange(client, "0123456789third"), ["third", true]);
});

Deno.test("three messages sent in parallel get three distinct replies in order", async () => {
  await using s = startServer(BUFFER_SIZE);
  await using client = await connect(s.port);
  const sends = [
    client.sendMessage("0123456789first"),
    client.sendMessage("0123456789the second one"),
    client.sendMessage("0123456789third"),
  ];
  const replies = [client.receiveMessage(), client.receiveMessage(), client.receiveMessage()];
  await Promise.all(sends);
  assert.deepEqual(await Promise.all(replies), [
    ["first", true],
    ["the second one", true],
    ["third", true],
  ]);
});

Deno.test("when the server stops while the client sends five more messages, the replies that come are in order, then ['', false]", async () => {
  await using s = startServer(BUFFER_SIZE);
  await using client = await connect(s.port);
  assert.deepEqual(await exchange(client, "0123456789before"), ["before", true]);

  const sends = [1, 2, 3, 4, 5].map((i) => client.sendMessage(`0123456789after ${i}`));
  s.server.keepRunning = false;
  await Promise.all(sends); // a server that went away is not an exception
  await s.done;

  assert.equal(s.server.keepRunning, false);
  // Requests the server took in before it hung up are answered; the rest are not.
  const replies: string[] = [];
  for (
    let [reply, ok] = await client.receiveMessage();
    ok;
    [reply, ok] = await client.receiveMessage()
  ) {
    replies.push(reply);
  }
  assert.deepEqual(
    replies,
    ["after 1", "after 2", "after 3", "after 4", "after 5"].slice(0, replies.length),
  );
  assert.equal(client.isOpen, false);
});

for (const bufferSize of [1, 16, 1024, 65536]) {
  Deno.test(`the server shuts down, then the client sends 5 messages: the next receive is ['', false] (buffer size ${bufferSize})`, async () => {
    // The assignment's grading scenario, in its order.
    const s = startServer(bufferSize);
    await using client = await BufferedClient.connect(HOST, s.port, bufferSize);
    assert.deepEqual(await exchange(client, "0123456789hello"), ["hello", true]);

    s.server.keepRunning = false;
    for (let i = 0; i < 5; i++) {
      await client.sendMessage(`message ${i} sent while the server shuts down`);
    }
    assert.deepEqual(await client.receiveMessage(), ["", false]);

    client.shutdown();
    await s.done;
    assert.match(s.logs[1], /disconnected: server stopping \(1 frame answered\)$/);
  });
}

Deno.test("after a client disconnects, a new client connects and is served", async () => {
  await using s = startServer(BUFFER_SIZE); // maxConnections: 1, the default
  await using first = await connect(s.port);
  assert.deepEqual(await exchange(first, "0123456789from the first"), ["from the first", true]);
  first.shutdown();

  await using second = await connect(s.port);
  assert.deepEqual(await exchange(second, "0123456789from the second"), ["from the second", true]);
  assert.deepEqual(logEvents(s.logs), ["connected", "disconnected", "connected"]);
  assert.match(s.logs[1], /disconnected: closed by client \(1 frame answered\)$/);
});

// The 10-character rule, counted in code points as Python's s[10:] does.

Deno.test("é, 中 and 😀 each count as one character", async () => {
  await using s = startServer(BUFFER_SIZE);
  await using client = await connect(s.port);
  assert.deepEqual(await exchange(client, "éééééééééé après"), [" après", true]);
  assert.deepEqual(await exchange(client, "中文中文中文中文中文字"), ["字", true]);
  assert.deepEqual(await exchange(client, "😀😀😀😀😀😀😀😀😀😀end😀"), ["end😀", true]);
  assert.deepEqual(await exchange(client, "a中😀é456789中😀é"), ["中😀é", true]);
});

Deno.test("combining marks count as characters of their own", async () => {
  await using s = startServer(BUFFER_SIZE);
  await using client = await connect(s.port);
  // "e" + U+0301 COMBINING ACUTE ACCENT is one glyph but two code points.
  const accented = "e\u0301";
  assert.deepEqual(await exchange(client, accented.repeat(5) + "tail"), ["tail", true]);
  assert.deepEqual(await exchange(client, "abcdefghi" + accented), ["\u0301", true]);
  // Devanagari "kṣi": one syllable, four code points.
  const syllable = "\u0915\u094d\u0937\u093f";
  assert.deepEqual(await exchange(client, syllable.repeat(3) + "!"), ["\u0937\u093f!", true]);
});

Deno.test("a message of fewer than 10 characters gets an empty reply and the connection stays good", async () => {
  await using s = startServer(BUFFER_SIZE);
  await using client = await connect(s.port);
  assert.deepEqual(await exchange(client, "short"), ["", true]);
  assert.deepEqual(await exchange(client, "😀".repeat(9)), ["", true]); // 36 bytes, 9 characters
  assert.deepEqual(await exchange(client, "0123456789ok"), ["ok", true]);
});

Deno.test("a message of exactly 10 characters gets an empty reply", async () => {
  await using s = startServer(BUFFER_SIZE);
  await using client = await connect(s.port);
  assert.deepEqual(await exchange(client, "0123456789"), ["", true]);
  assert.deepEqual(await exchange(client, "😀".repeat(10)), ["", true]);
  assert.deepEqual(await exchange(client, "0123456789!"), ["!", true]);
});

Deno.test("an empty message gets an empty reply", async () => {
  await using s = startServer(BUFFER_SIZE);
  await using client = await connect(s.port);
  assert.deepEqual(await exchange(client, ""), ["", true]);
  assert.deepEqual(await exchange(client, "0123456789ok"), ["ok", true]);
});

Deno.test("the spec's example: 'Four score and seven years ago' gets ' and seven years ago'", async () => {
  await using s = startServer(BUFFER_SIZE);
  await using client = await connect(s.port);
  assert.deepEqual(await exchange(client, "Four score and seven years ago"), [
    " and seven years ago",
    true,
  ]);
});

// Connections.

Deno.test("with maxConnections 1 a second client waits until the first leaves, then is served", async () => {
  await using s = startServer(BUFFER_SIZE, { maxConnections: 1 });
  await using first = await connect(s.port);
  assert.deepEqual(await exchange(first, "0123456789one"), ["one", true]);

  await using second = await connect(s.port); // in the listen backlog
  await second.sendMessage("0123456789two");
  // The first client is still served, and still the only one.
  assert.deepEqual(await exchange(first, "0123456789one again"), ["one again", true]);
  assert.equal(s.server.connectionCount, 1);
  assert.deepEqual(logEvents(s.logs), ["connected"]);

  first.shutdown();
  assert.deepEqual(await second.receiveMessage(), ["two", true]);
  // The second was accepted only after the first had gone.
  assert.deepEqual(logEvents(s.logs), ["connected", "disconnected", "connected"]);
});

Deno.test("with maxConnections 3 three clients are served concurrently", async () => {
  await using s = startServer(BUFFER_SIZE, { maxConnections: 3 });
  await using a = await connect(s.port);
  await using b = await connect(s.port);
  await using c = await connect(s.port);

  await a.sendMessage("0123456789a1");
  await b.sendMessage("0123456789b1");
  await c.sendMessage("0123456789c1");
  // Answered last-connected first: no client waits for another to leave.
  assert.deepEqual(await c.receiveMessage(), ["c1", true]);
  assert.deepEqual(await b.receiveMessage(), ["b1", true]);
  assert.deepEqual(await a.receiveMessage(), ["a1", true]);
  assert.deepEqual(await exchange(b, "0123456789b2"), ["b2", true]);
  assert.deepEqual(await exchange(a, "0123456789a2"), ["a2", true]);
  assert.deepEqual(await exchange(c, "0123456789c2"), ["c2", true]);

  assert.equal(s.server.connectionCount, 3);
  assert.deepEqual(logEvents(s.logs), ["connected", "connected", "connected"]);
});

// Stopping.

Deno.test("start() resolves after keepRunning = false while waiting for a connection", async () => {
  const s = startServer(BUFFER_SIZE);
  assert.equal(s.server.keepRunning, true);
  s.server.keepRunning = false;
  await s.done;
  assert.equal(s.server.keepRunning, false);
  assert.deepEqual(s.logs, []);
});

Deno.test("start() resolves after keepRunning = false while a connected client is silent", async () => {
  const s = startServer(BUFFER_SIZE);
  await using client = await connect(s.port);
  assert.deepEqual(await exchange(client, "0123456789hello"), ["hello", true]);

  s.server.keepRunning = false;
  await s.done;
  assert.deepEqual(await client.receiveMessage(), ["", false]);
  assert.deepEqual(logEvents(s.logs), ["connected", "disconnected"]);
  assert.match(s.logs[1], /disconnected: server stopping \(1 frame answered\)$/);
});

Deno.test("start() resolves after keepRunning = false while a client waits in the backlog", async () => {
  const s = startServer(BUFFER_SIZE, { maxConnections: 1 });
  await using served = await connect(s.port);
  assert.deepEqual(await exchange(served, "0123456789hello"), ["hello", true]);
  await using waiting = await connect(s.port);
  await waiting.sendMessage("0123456789never read");

  s.server.keepRunning = false;
  await s.done;
  assert.deepEqual(await waiting.receiveMessage(), ["", false]);
  assert.deepEqual(await served.receiveMessage(), ["", false]);
  assert.deepEqual(logEvents(s.logs), ["connected", "disconnected"]);
});

Deno.test("calling shutdown() twice is harmless", async () => {
  const s = startServer(BUFFER_SIZE);
  await using client = await connect(s.port);
  assert.deepEqual(await exchange(client, "0123456789hello"), ["hello", true]);
  s.server.shutdown();
  s.server.shutdown();
  s.server.keepRunning = false;
  await s.done;
  assert.equal(s.server.keepRunning, false);
  assert.equal(s.server.start(), s.done);
  assert.deepEqual(logEvents(s.logs), ["connected", "disconnected"]);
});

Deno.test("await using stops the server and waits until it has stopped", async () => {
  let stopped = false;
  let server: BufferedServer | undefined;
  let client: BufferedClient | undefined;
  {
    await using owned = new BufferedServer(HOST, 0, BUFFER_SIZE, { log: () => {} });
    server = owned;
    owned.start().then(() => {
      stopped = true;
    });
    client = await connect(owned.addr.port);
    assert.deepEqual(await exchange(client, "0123456789hello"), ["hello", true]);
  }
  assert.equal(stopped, true);
  assert.equal(server.keepRunning, false);
  assert.deepEqual(await client.receiveMessage(), ["", false]);
  client.shutdown();
});

// Binding.

Deno.test("the constructor throws AddrInUse naming the address when the port is taken", () => {
  using taken = Deno.listen({ hostname: HOST, port: 0 });
  const { port } = taken.addr;
  assert.throws(
    () => new BufferedServer(HOST, port, BUFFER_SIZE, { log: () => {} }),
    (error: unknown) => {
      assert.ok(error instanceof Deno.errors.AddrInUse, `not AddrInUse: ${error}`);
      assert.ok(error.message.includes(`127.0.0.1:${port}`), error.message);
      return true;
    },
  );
});

Deno.test("port 0 binds a free port, which server.addr reports", async () => {
  await using s = startServer(BUFFER_SIZE);
  const { addr } = s.server;
  assert.equal(addr.transport, "tcp");
  assert.equal(addr.hostname, HOST);
  assert.ok(Number.isInteger(addr.port) && addr.port > 0 && addr.port < 65536, `${addr.port}`);
  await using client = await connect(addr.port);
  assert.deepEqual(await exchange(client, "0123456789there"), ["there", true]);
});

Deno.test("hostname '' binds all interfaces, reachable through 127.0.0.1", async () => {
  // Listening on 0.0.0.0 needs a permission the test runner does not have: a
  // child with exactly that permission builds the server and stops it once its
  // first client has gone.
  const script = `
    import { BufferedServer } from ${JSON.stringify(new URL("../server.ts", import.meta.url).href)};
    const server = new BufferedServer("", 0, ${BUFFER_SIZE}, {
      log: (line) => { if (line.includes(" disconnected: ")) server.shutdown(); },
    });
    console.log(server.addr.hostname + " " + server.addr.port);
    await server.start();
  `;
  await using child = spawnDeno(["--allow-net=0.0.0.0:0", "-"], script);
  const line = await child.readLine();
  const match = line?.match(/^0\.0\.0\.0 (\d+)$/);
  assert.ok(match, `unexpected first line: ${line}`);
  await using client = await connect(Number(match[1]));
  assert.deepEqual(await exchange(client, "0123456789everywhere"), ["everywhere", true]);
  client.shutdown();
  const outcome = await child.finish();
  assert.equal(outcome.code, 0, outcome.stderr);
});

Deno.test("bad constructor arguments throw a RangeError naming the option, and bind nothing", () => {
  const log = (): void => {};
  const cases: [string, () => BufferedServer][] = [
    ["port", () => new BufferedServer(HOST, -1, BUFFER_SIZE, { log })],
    ["port", () => new BufferedServer(HOST, 65536, BUFFER_SIZE, { log })],
    ["bufferSize", () => new BufferedServer(HOST, 0, 0, { log })],
    ["bufferSize", () => new BufferedServer(HOST, 0, 1.5, { log })],
    ["maxConnections", () => new BufferedServer(HOST, 0, BUFFER_SIZE, { maxConnections: 0, log })],
    ["maxFrameSize", () => new BufferedServer(HOST, 0, BUFFER_SIZE, { maxFrameSize: -1, log })],
    [
      "maxFrameSize",
      () => new BufferedServer(HOST, 0, BUFFER_SIZE, { maxFrameSize: 2 ** 32, log }),
    ],
    ["idleTimeout", () => new BufferedServer(HOST, 0, BUFFER_SIZE, { idleTimeout: -1, log })],
    ["frameTimeout", () => new BufferedServer(HOST, 0, BUFFER_SIZE, { frameTimeout: NaN, log })],
    ["writeTimeout", () => new BufferedServer(HOST, 0, BUFFER_SIZE, { writeTimeout: 0.5, log })],
    [
      "shutdownTimeout",
      () => new BufferedServer(HOST, 0, BUFFER_SIZE, { shutdownTimeout: 2 ** 31, log }),
    ],
  ];
  for (const [option, construct] of cases) {
    // A server built by mistake would leak its listener: the sanitizer would say so.
    assert.throws(construct, (error: unknown) => {
      assert.ok(error instanceof RangeError, `${option}: not a RangeError: ${error}`);
      assert.ok(error.message.includes(option), `${option}: ${error.message}`);
      return true;
    });
  }
});

// A client that speaks the wire format by hand, as a Python client would.

Deno.test("a raw socket gets back exactly the spec's bytes", async () => {
  await using s = startServer(BUFFER_SIZE);
  using conn = await Deno.connect({ hostname: HOST, port: s.port });
  const request = concat(new Uint8Array([0, 0, 0, 30]), utf8("Four score and seven years ago"));
  assert.equal(request.length, 34);
  await writeAll(conn, request);
  const expected = concat(new Uint8Array([0, 0, 0, 20]), utf8(" and seven years ago"));
  assert.deepEqual(await readExactly(conn, expected.length), expected);
});

Deno.test("a frame written one byte at a time is answered", async () => {
  await using s = startServer(BUFFER_SIZE);
  using conn = await Deno.connect({ hostname: HOST, port: s.port });
  conn.setNoDelay(true);
  for (const byte of frame("0123456789split 😀 up")) await writeAll(conn, new Uint8Array([byte]));
  assert.deepEqual(await readFrame(conn), frame("split 😀 up"));
});

Deno.test("several frames in one write get their replies in order", async () => {
  await using s = startServer(BUFFER_SIZE);
  using conn = await Deno.connect({ hostname: HOST, port: s.port });
  await writeAll(conn, concat(frame("0123456789one"), frame(""), frame("0123456789three")));
  assert.deepEqual(await readFrame(conn), frame("one"));
  assert.deepEqual(await readFrame(conn), frame(""));
  assert.deepEqual(await readFrame(conn), frame("three"));
});

Deno.test("a client that half-closes after its requests still gets every reply", async () => {
  await using s = startServer(BUFFER_SIZE);
  using conn = await Deno.connect({ hostname: HOST, port: s.port });
  await writeAll(conn, concat(frame("0123456789one"), frame("0123456789two")));
  await conn.closeWrite();
  assert.deepEqual(await readToEnd(conn), concat(frame("one"), frame("two")));
});

Deno.test("a client that sends invalid UTF-8 is disconnected, and the next client is served", async () => {
  await using s = startServer(BUFFER_SIZE);
  {
    using conn = await Deno.connect({ hostname: HOST, port: s.port });
    const invalid = frame(new Uint8Array([0xc3, 0x28])); // a lead byte without its continuation
    await writeAll(conn, concat(frame("0123456789fine"), invalid));
    // The request before the bad one is answered, then the connection ends.
    assert.deepEqual(await readToEnd(conn), frame("fine"));
  }
  await using client = await connect(s.port);
  assert.deepEqual(await exchange(client, "0123456789next"), ["next", true]);
  assert.match(s.logs[1], /disconnected: .*UTF-8/);
});

Deno.test("a client that declares a frame above maxFrameSize is disconnected", async () => {
  await using s = startServer(BUFFER_SIZE, { maxFrameSize: 32 });
  using conn = await Deno.connect({ hostname: HOST, port: s.port });
  await writeAll(conn, concat(frame("0123456789".repeat(3) + "ok"), new Uint8Array([0, 0, 0, 33])));
  assert.deepEqual(await readToEnd(conn), frame("0123456789".repeat(2) + "ok"));
  // One client at a time: the next one is served only once the bad one is closed and logged.
  await using client = await connect(s.port);
  assert.deepEqual(await exchange(client, "0123456789next"), ["next", true]);
  assert.match(s.logs[1], /disconnected: .*33 bytes/);
});
