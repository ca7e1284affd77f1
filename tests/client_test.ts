// Copyright 2026 the buffered-framing authors. MIT license.
// BufferedClient against hand-scripted fake servers: a raw listener on
// 127.0.0.1 whose every byte the test writes itself.

import assert from "node:assert/strict";
import { BufferedClient } from "../client.ts";
import { FrameTooLargeError, IncompleteFrameError } from "../framing.ts";
import {
  concat,
  connectPair,
  frame,
  freePort,
  HOST,
  readExactly,
  readFrame,
  readToEnd,
  writeAll,
} from "./_helpers.ts";

const BUFFER_SIZE = 16;

Deno.test("a reply longer than the client's buffer is returned whole", async () => {
  await using pair = await connectPair(BUFFER_SIZE);
  const reply = Array.from({ length: 40 }, (_, i) => `${i}:é中😀`).join(" ");
  const bytes = frame(reply);
  assert.ok(bytes.length > 20 * BUFFER_SIZE);
  // In uneven pieces, cutting the header and several characters in two.
  pair.conn.setNoDelay(true);
  for (let offset = 0, size = 2; offset < bytes.length; offset += size, size = size * 3 % 37 + 1) {
    await writeAll(pair.conn, bytes.subarray(offset, offset + size));
  }
  assert.deepEqual(await pair.client.receiveMessage(), [reply, true]);
});

Deno.test("two replies arriving in one write are returned one per receive", async () => {
  await using pair = await connectPair(BUFFER_SIZE);
  await writeAll(pair.conn, concat(frame("first"), frame("second reply, longer than 16")));
  assert.deepEqual(await pair.client.receiveMessage(), ["first", true]);
  assert.deepEqual(await pair.client.receiveMessage(), ["second reply, longer than 16", true]);
});

Deno.test("an empty reply from a live server is ['', true]", async () => {
  await using pair = await connectPair(BUFFER_SIZE);
  await writeAll(pair.conn, frame(""));
  assert.deepEqual(await pair.client.receiveMessage(), ["", true]);
  assert.equal(pair.client.isOpen, true);
  await writeAll(pair.conn, frame("still here"));
  assert.deepEqual(await pair.client.receiveMessage(), ["still here", true]);
});

Deno.test("sendMessage writes one frame: 4-byte big-endian UTF-8 length, then the UTF-8 bytes", async () => {
  await using pair = await connectPair(BUFFER_SIZE);
  await pair.client.sendMessage("hé中😀");
  await pair.client.sendMessage("");
  assert.deepEqual(
    await readExactly(pair.conn, 18),
    new Uint8Array([
      0,
      0,
      0,
      10,
      0x68,
      0xc3,
      0xa9,
      0xe4,
      0xb8,
      0xad,
      0xf0,
      0x9f,
      0x98,
      0x80,
      0,
      0,
      0,
      0,
    ]),
  );
});

Deno.test("the server closing the connection between frames gives ['', false] and no failure", async () => {
  await using pair = await connectPair(BUFFER_SIZE);
  await writeAll(pair.conn, frame("last words"));
  pair.conn.close();
  assert.deepEqual(await pair.client.receiveMessage(), ["last words", true]);
  assert.deepEqual(await pair.client.receiveMessage(), ["", false]);
  assert.equal(pair.client.isOpen, false);
  assert.equal(pair.client.failure, undefined);
});

Deno.test("the server closing inside a frame header gives ['', false]", async () => {
  await using pair = await connectPair(BUFFER_SIZE);
  await writeAll(pair.conn, new Uint8Array([0, 0]));
  pair.conn.close();
  assert.deepEqual(await pair.client.receiveMessage(), ["", false]);
  const { failure } = pair.client;
  assert.ok(failure instanceof IncompleteFrameError, `${failure}`);
  assert.equal(failure.part, "header");
});

Deno.test("the server closing inside a frame payload gives ['', false]", async () => {
  await using pair = await connectPair(BUFFER_SIZE);
  await writeAll(pair.conn, frame("a payload longer than the buffer").subarray(0, 24));
  pair.conn.close();
  assert.deepEqual(await pair.client.receiveMessage(), ["", false]);
  const { failure } = pair.client;
  assert.ok(failure instanceof IncompleteFrameError, `${failure}`);
  assert.equal(failure.part, "payload");
});

Deno.test("the server resetting the connection mid-frame gives ['', false]", async () => {
  await using pair = await connectPair(BUFFER_SIZE);
  await pair.client.sendMessage("a request the server never reads");
  await writeAll(pair.conn, frame("a reply cut short").subarray(0, 9));
  // Closing with unread bytes makes the kernel send RST instead of FIN.
  pair.conn.close();
  assert.deepEqual(await pair.client.receiveMessage(), ["", false]);
  assert.ok(pair.client.failure instanceof Error, `${pair.client.failure}`);
  assert.equal(pair.client.isOpen, false);
});

Deno.test("a reply above maxFrameSize gives ['', false] and a FrameTooLargeError failure", async () => {
  await using pair = await connectPair(BUFFER_SIZE, { maxFrameSize: 8 });
  await writeAll(pair.conn, frame("123456789"));
  assert.deepEqual(await pair.client.receiveMessage(), ["", false]);
  const { failure } = pair.client;
  assert.ok(failure instanceof FrameTooLargeError, `${failure}`);
  assert.equal(failure.length, 9);
  assert.equal(failure.maxFrameSize, 8);
  assert.equal(pair.client.isOpen, false);
});

Deno.test("a reply that is not valid UTF-8 gives ['', false]", async () => {
  await using pair = await connectPair(BUFFER_SIZE);
  await writeAll(pair.conn, frame(new Uint8Array([0x6f, 0x6b, 0xc3, 0x28])));
  assert.deepEqual(await pair.client.receiveMessage(), ["", false]);
  assert.ok(pair.client.failure instanceof Error, `${pair.client.failure}`);
  assert.equal(pair.client.isOpen, false);
});

Deno.test("receiveTimeout with a server that never answers gives ['', false] and a TimedOut failure", async () => {
  await using pair = await connectPair(BUFFER_SIZE, { receiveTimeout: 150 });
  await pair.client.sendMessage("0123456789anyone there?");
  assert.deepEqual(await pair.client.receiveMessage(), ["", false]);
  assert.ok(pair.client.failure instanceof Deno.errors.TimedOut, `${pair.client.failure}`);
  assert.equal(pair.client.isOpen, false);
  // The client closed its end: the fake server sees the request, then the end.
  assert.deepEqual(await readToEnd(pair.conn), frame("0123456789anyone there?"));
});

Deno.test("sendMessage after shutdown() rejects with BadResource", async () => {
  await using pair = await connectPair(BUFFER_SIZE);
  pair.client.shutdown();
  await assert.rejects(pair.client.sendMessage("too late"), Deno.errors.BadResource);
});

Deno.test("sendMessage rejects with FrameTooLargeError when the UTF-8 size exceeds maxFrameSize", async () => {
  await using pair = await connectPair(BUFFER_SIZE, { maxFrameSize: 3 });
  const tooLarge = (bytes: number): (error: unknown) => boolean => (error: unknown): boolean =>
    error instanceof FrameTooLargeError && error.length === bytes && error.maxFrameSize === 3 &&
    error.message.includes(`${bytes} bytes`);
  await pair.client.sendMessage("é"); // 1 character, 2 bytes
  await assert.rejects(pair.client.sendMessage("éé"), tooLarge(4)); // 2 characters, 4 bytes
  await assert.rejects(pair.client.sendMessage("😀"), tooLarge(4)); // 1 character, 2 UTF-16 units
  await assert.rejects(pair.client.sendMessage("abcd"), tooLarge(4));
  await pair.client.sendMessage("中"); // 3 bytes: exactly the limit
  await pair.client.sendMessage("abc");
  // Nothing of the refused messages reached the wire, and the client is still good.
  assert.equal(pair.client.isOpen, true);
  assert.deepEqual(await readFrame(pair.conn), frame("é"));
  assert.deepEqual(await readFrame(pair.conn), frame("中"));
  assert.deepEqual(await readFrame(pair.conn), frame("abc"));
});

Deno.test("sendMessage to a server that went away does not throw, and the next receive is ['', false]", async () => {
  await using pair = await connectPair(BUFFER_SIZE);
  pair.conn.close();
  for (let i = 0; i < 5; i++) await pair.client.sendMessage(`0123456789message ${i}`);
  assert.deepEqual(await pair.client.receiveMessage(), ["", false]);
  assert.equal(pair.client.isOpen, false);
});

Deno.test("calling shutdown() twice is harmless", async () => {
  await using pair = await connectPair(BUFFER_SIZE);
  pair.client.shutdown();
  pair.client.shutdown();
  assert.equal(pair.client.isOpen, false);
  assert.equal(pair.client.failure, undefined);
  // The fake server sees a clean end of stream.
  assert.deepEqual(await readToEnd(pair.conn), new Uint8Array());
});

Deno.test("receiveMessage after shutdown() is ['', false], even with a reply waiting", async () => {
  await using pair = await connectPair(BUFFER_SIZE);
  await writeAll(pair.conn, frame("unread"));
  pair.client.shutdown();
  assert.deepEqual(await pair.client.receiveMessage(), ["", false]);
  assert.deepEqual(await pair.client.receiveMessage(), ["", false]);
  assert.equal(pair.client.failure, undefined);
});

Deno.test("pending receives resolve ['', false] when shutdown() is called", async () => {
  using listener = Deno.listen({ hostname: HOST, port: 0 });
  const client = await BufferedClient.connect(HOST, listener.addr.port, BUFFER_SIZE);
  const first = client.receiveMessage();
  const second = client.receiveMessage();
  // Awaiting an operation lets the first receive reach its socket read.
  using conn = await listener.accept();
  listener.close();
  client.shutdown();
  assert.deepEqual(await first, ["", false]);
  assert.deepEqual(await second, ["", false]);
  assert.equal(client.failure, undefined);
  assert.deepEqual(await readToEnd(conn), new Uint8Array());
});

Deno.test("failure stays undefined when shutdown() interrupts a send in flight", async () => {
  const size = 32 * 1024 * 1024; // more than loopback socket buffers hold
  await using pair = await connectPair(BUFFER_SIZE, { maxFrameSize: size });
  const sending = pair.client.sendMessage("x".repeat(size));
  pair.client.shutdown();
  await sending; // a send cut short by our own shutdown is not an exception either
  assert.deepEqual(await pair.client.receiveMessage(), ["", false]);
  // Documented: "undefined while the connection is good, and after a clean
  // close or a shutdown()". The server did nothing wrong here.
  assert.equal(pair.client.failure, undefined);
});

Deno.test("connect to a port nothing listens on rejects with ConnectionRefused naming host:port", async () => {
  const port = freePort();
  await assert.rejects(BufferedClient.connect(HOST, port, BUFFER_SIZE), (error: unknown) => {
    assert.ok(error instanceof Deno.errors.ConnectionRefused, `${error}`);
    assert.ok(error.message.includes(`127.0.0.1:${port}`), error.message);
    return true;
  });
});

Deno.test("connect with bufferSize 0 rejects with RangeError and opens no socket", async () => {
  using listener = Deno.listen({ hostname: HOST, port: 0 });
  await assert.rejects(BufferedClient.connect(HOST, listener.addr.port, 0), (error: unknown) => {
    assert.ok(error instanceof RangeError, `${error}`);
    assert.ok(error.message.includes("bufferSize"), error.message);
    return true;
  });
  // The first connection the listener sees is this one: the client opened none.
  using probe = await Deno.connect({ hostname: HOST, port: listener.addr.port });
  using accepted = await listener.accept();
  assert.equal(accepted.remoteAddr.port, probe.localAddr.port);
});
