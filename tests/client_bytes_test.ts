// Copyright 2026 the buffered-framing authors. MIT license.
// BufferedClient with binary messages: sendMessage(Uint8Array) and
// receiveBytes(), through a raw echo peer that writes back every byte it
// reads (so each frame returns as it went, UTF-8 or not), and against raw
// sockets whose every byte the test checks. The faults (a dead server, a
// reset, an oversize reply) are in client_faults_test.ts, the held sends in
// client_flush_test.ts.

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { BufferedClient } from "../client.ts";
import { FrameTooLargeError } from "../framing.ts";
import { concat, connectPair, frame, HOST, readExactly, readFrame, writeAll } from "./_helpers.ts";
import { randomBytes, ScriptedServer } from "./_faults.ts";
import { mulberry32 } from "./_bytes.ts";

/** Bytes that are not UTF-8: 0xff and 0xfe never occur in it, and a NUL besides. */
const NOT_UTF8 = new Uint8Array([0xff, 0xfe, 0x00]);

/** A one-connection peer that writes back every byte it reads until the client closes. */
class EchoPeer extends ScriptedServer {
  constructor() {
    super(async (conn) => {
      const buffer = new Uint8Array(64 * 1024);
      for (let n; (n = await conn.read(buffer)) !== null;) {
        await writeAll(conn, buffer.subarray(0, n));
      }
    });
  }
}

Deno.test("bytes that are not UTF-8 make a round trip through an echo peer unchanged", async () => {
  await using echo = new EchoPeer();
  await using client = await BufferedClient.connect(HOST, echo.port);
  await client.sendMessage(NOT_UTF8);
  assert.deepEqual(await client.receiveBytes(), [NOT_UTF8, true]);
  assert.equal(client.isOpen, true);
  assert.equal(client.failure, undefined);
});

Deno.test("a 1 MiB random payload makes a round trip through an echo peer unchanged", async () => {
  await using echo = new EchoPeer();
  await using client = await BufferedClient.connect(HOST, echo.port, 1024);
  const payload = randomBytes(mulberry32(0x5eed), 1024 * 1024);
  // Received while it is sent: the echo peer would stall on a client that is not reading.
  const [, reply] = await Promise.all([client.sendMessage(payload), client.receiveBytes()]);
  assert.equal(reply[1], true);
  assert.equal(reply[0].byteLength, payload.byteLength);
  assert.ok(reply[0].every((byte, i) => byte === payload[i]), "the payload came back unchanged");
});

Deno.test("an empty byte payload makes a round trip as an empty array and true", async () => {
  await using echo = new EchoPeer();
  await using client = await BufferedClient.connect(HOST, echo.port);
  await client.sendMessage(new Uint8Array(0));
  assert.deepEqual(await client.receiveBytes(), [new Uint8Array(0), true]);
  assert.equal(client.isOpen, true);
});

Deno.test("text and bytes mixed on one connection come back in order, each received either way", async () => {
  await using echo = new EchoPeer();
  await using client = await BufferedClient.connect(HOST, echo.port, 8);
  await Promise.all([
    client.sendMessage("first é"),
    client.sendMessage(NOT_UTF8),
    client.sendMessage("third 😀"),
    client.sendMessage(new TextEncoder().encode("fourth 中")),
    client.sendMessage("fifth"),
  ]);
  // All issued before any settles: the two kinds share the one queue.
  const replies = await Promise.all([
    client.receiveMessage(),
    client.receiveBytes(),
    client.receiveBytes(),
    client.receiveMessage(),
    client.receiveMessage(),
  ]);
  assert.deepEqual(replies, [
    ["first é", true],
    [NOT_UTF8, true],
    [new TextEncoder().encode("third 😀"), true],
    ["fourth 中", true],
    ["fifth", true],
  ]);
});

Deno.test("sendMessage with a Uint8Array writes a 4-byte big-endian length, then the bytes as they are", async () => {
  await using pair = await connectPair(16);
  await pair.client.sendMessage(NOT_UTF8);
  await pair.client.sendMessage(new Uint8Array(0));
  await pair.client.sendMessage(new Uint8Array([1, 2, 3, 4, 5]).subarray(1, 3)); // a view: its bytes only
  assert.deepEqual(
    await readExactly(pair.conn, 17),
    new Uint8Array([0, 0, 0, 3, 0xff, 0xfe, 0x00, 0, 0, 0, 0, 0, 0, 0, 2, 2, 3]),
  );
});

Deno.test("receiveBytes returns a payload the caller owns: later replies do not change it", async () => {
  // A 16-byte buffer: the short replies are views of it, the long ones of the
  // reader's long-frame array, and both are reused by the next read.
  await using pair = await connectPair(16);
  const short = [new Uint8Array([1, 1, 1]), new Uint8Array([2, 2, 2])];
  const long = [new Uint8Array(100).fill(3), new Uint8Array(100).fill(4)];
  await writeAll(pair.conn, concat(...[...short, ...long].map((payload) => frame(payload))));
  const received: Uint8Array[] = [];
  for (let i = 0; i < 4; i++) {
    const [payload, ok] = await pair.client.receiveBytes();
    assert.equal(ok, true);
    received.push(payload);
  }
  await writeAll(pair.conn, concat(frame(new Uint8Array(100).fill(5)), frame(new Uint8Array(3))));
  assert.deepEqual(await pair.client.receiveBytes(), [new Uint8Array(100).fill(5), true]);
  assert.deepEqual(await pair.client.receiveBytes(), [new Uint8Array(3), true]);
  assert.deepEqual(received, [...short, ...long]);
  received[0][0] = 9; // and writing to it does not reach the client's buffer
  assert.equal(pair.client.isOpen, true);
});

Deno.test("sendMessage with a Uint8Array after shutdown() rejects with BadResource", async () => {
  await using pair = await connectPair(16);
  pair.client.shutdown();
  await assert.rejects(pair.client.sendMessage(NOT_UTF8), Deno.errors.BadResource);
  assert.deepEqual(await readExactly(pair.conn, 1), new Uint8Array(0), "nothing was sent");
});

Deno.test("a Uint8Array over maxFrameSize rejects with FrameTooLargeError and sends nothing", async () => {
  await using pair = await connectPair(16, { maxFrameSize: 100 });
  const refused = pair.client.sendMessage(new Uint8Array(101));
  await assert.rejects(refused, (error: unknown) => {
    assert.ok(error instanceof FrameTooLargeError);
    assert.deepEqual([error.length, error.maxFrameSize], [101, 100]);
    return true;
  });
  await pair.client.sendMessage(new Uint8Array(100).fill(7)); // exactly the limit goes
  assert.deepEqual(await readFrame(pair.conn), frame(new Uint8Array(100).fill(7)));
  assert.equal(pair.client.isOpen, true);
});

Deno.test("the caller may reuse its array as soon as sendMessage returns", async () => {
  await using pair = await connectPair(16);
  // Short bytes go into the writer's batch; 1 MiB is above the writer's borrow threshold.
  const short = new Uint8Array([1, 2, 3]);
  const long = randomBytes(mulberry32(7), 1024 * 1024);
  const longOriginal = long.slice();
  const sent = Promise.all([pair.client.sendMessage(short), pair.client.sendMessage(long)]);
  short.fill(0);
  long.fill(0);
  // Read while the client writes: 1 MiB need not fit in the socket buffers.
  const first = await readFrame(pair.conn);
  const second = await readFrame(pair.conn);
  await sent;
  assert.deepEqual(first, frame(new Uint8Array([1, 2, 3])));
  assert.ok(second !== null);
  assert.ok(
    second.subarray(4).every((byte, i) => byte === longOriginal[i]),
    "the long payload went out as it was at the call",
  );
});

Deno.test("a node:buffer Buffer is sent as its bytes, copied at the call", async () => {
  await using pair = await connectPair(16);
  const buffer = Buffer.from([0xff, 0x00, 0x41]);
  const sent = pair.client.sendMessage(buffer);
  buffer.fill(0);
  await sent;
  assert.deepEqual(await readFrame(pair.conn), frame(new Uint8Array([0xff, 0x00, 0x41])));
});

Deno.test("sendMessage rejects anything but a string or a Uint8Array with a TypeError, and sends nothing", async (t) => {
  await using pair = await connectPair(16);
  const cases: [string, unknown][] = [
    ["number", 42],
    ["null", null],
    ["undefined", undefined],
    ["Array", [1, 2, 3]],
    ["ArrayBuffer", new ArrayBuffer(3)],
    ["DataView", new DataView(new ArrayBuffer(3))],
    ["Uint16Array", new Uint16Array(3)],
    ["Uint8ClampedArray", new Uint8ClampedArray(3)],
  ];
  for (const [name, value] of cases) {
    await t.step(`${name} is refused, and named in the message`, async () => {
      await assert.rejects(pair.client.sendMessage(value as Uint8Array), (error: unknown) => {
        assert.ok(error instanceof TypeError);
        assert.equal(
          error.message,
          `Cannot send a message of type ${name}: expected a string or a Uint8Array`,
        );
        return true;
      });
    });
  }
  assert.equal(pair.client.isOpen, true);
  await pair.client.sendMessage("after");
  assert.deepEqual(await readFrame(pair.conn), frame("after"), "nothing was sent before it");
});

Deno.test("receiveBytes with a signal aborted before its turn rejects and leaves the connection open", async () => {
  await using pair = await connectPair(16);
  const reason = new Error("not now");
  await assert.rejects(pair.client.receiveBytes({ signal: AbortSignal.abort(reason) }), reason);
  assert.equal(pair.client.isOpen, true);
  await writeAll(pair.conn, frame(NOT_UTF8));
  assert.deepEqual(await pair.client.receiveBytes(), [NOT_UTF8, true]);
});

Deno.test("an abort while receiveBytes waits on the network rejects and closes the connection", async () => {
  await using pair = await connectPair(16);
  const controller = new AbortController();
  const reason = new Error("gave up");
  const first = pair.client.receiveBytes();
  // Queued behind the first receive, this one starts reading as soon as the
  // first settles (its callback was registered before this test's await): by
  // the time the await below returns, it is waiting on the network, where
  // nothing more will come.
  const pending = pair.client.receiveBytes({ signal: controller.signal });
  await writeAll(pair.conn, frame(NOT_UTF8));
  assert.deepEqual(await first, [NOT_UTF8, true]);
  controller.abort(reason);
  await assert.rejects(pending, (error: unknown) => error === reason);
  assert.equal(pair.client.isOpen, false);
  assert.equal(pair.client.failure, reason);
  assert.deepEqual(await pair.client.receiveBytes(), [new Uint8Array(0), false]);
});

Deno.test("receiveBytes after shutdown() is an empty array and false, even with a reply waiting", async () => {
  await using pair = await connectPair(16);
  await writeAll(pair.conn, frame(NOT_UTF8));
  pair.client.shutdown();
  assert.deepEqual(await pair.client.receiveBytes(), [new Uint8Array(0), false]);
  assert.deepEqual(await pair.client.receiveBytes(), [new Uint8Array(0), false]);
  assert.equal(pair.client.failure, undefined);
});

Deno.test("a pending receiveBytes resolves to an empty array and false when shutdown() is called", async () => {
  using listener = Deno.listen({ hostname: HOST, port: 0 });
  const client = await BufferedClient.connect(HOST, listener.addr.port, 16);
  const pending = client.receiveBytes();
  // Awaiting an operation lets the receive reach its socket read.
  using conn = await listener.accept();
  listener.close();
  client.shutdown();
  assert.deepEqual(await pending, [new Uint8Array(0), false]);
  assert.equal(client.failure, undefined);
  assert.deepEqual(await readExactly(conn, 1), new Uint8Array(0), "a clean end of stream");
});

Deno.test("each failed receiveBytes gives a new empty array", async () => {
  await using pair = await connectPair(16);
  pair.client.shutdown();
  const [first] = await pair.client.receiveBytes();
  const [second] = await pair.client.receiveBytes();
  assert.notEqual(first, second);
});
