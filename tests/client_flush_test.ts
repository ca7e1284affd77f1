// Copyright 2026 the buffered-framing authors. MIT license.
// BufferedClient holds back sends issued while replies are buffered, to write
// them in batches. These tests pin down what holding must never change:
// every send reaches the server, whole and in order, even when the caller
// stops receiving, and every send's promise settles.

import assert from "node:assert/strict";
import { FrameTooLargeError } from "../framing.ts";
import { concat, connectPair, frame, type Pair, readFrame, writeAll } from "./_helpers.ts";

/** Writes `replies` in one write, and waits until the client has received the first. */
async function bufferReplies(pair: Pair, replies: string[]): Promise<void> {
  await writeAll(pair.conn, concat(...replies.map((reply) => frame(reply))));
  assert.deepEqual(await pair.client.receiveMessage(), [replies[0], true]);
}

Deno.test("a send issued while replies are buffered, with no further receive, still reaches the server", async () => {
  await using pair = await connectPair(1024);
  await bufferReplies(pair, ["first", "second"]);
  // "second" is buffered and nobody receives it: the send must not wait for that.
  await pair.client.sendMessage("0123456789request");
  assert.deepEqual(await readFrame(pair.conn), frame("0123456789request"));
  assert.deepEqual(await pair.client.receiveMessage(), ["second", true]);
});

Deno.test("sends interleaved with buffered replies reach the server whole and in order", async () => {
  await using pair = await connectPair(64 * 1024);
  const count = 100; // several batches' worth of held sends
  const replies = Array.from({ length: count }, (_, i) => `reply ${i}`);
  await bufferReplies(pair, replies);
  const sends: Promise<void>[] = [];
  for (let i = 1; i < count; i++) {
    sends.push(pair.client.sendMessage(`0123456789request ${i - 1}`));
    assert.deepEqual(await pair.client.receiveMessage(), [replies[i], true]);
  }
  sends.push(pair.client.sendMessage(`0123456789request ${count - 1}`));
  // A send once the buffered replies have run out goes behind the held ones.
  sends.push(pair.client.sendMessage("0123456789last"));
  await Promise.all(sends);
  for (let i = 0; i < count; i++) {
    assert.deepEqual(await readFrame(pair.conn), frame(`0123456789request ${i}`), `request ${i}`);
  }
  assert.deepEqual(await readFrame(pair.conn), frame("0123456789last"));
});

Deno.test("held sends go out when a receive has to wait on the network for its reply", async () => {
  await using pair = await connectPair(1024);
  await bufferReplies(pair, ["first", "second"]);
  const sent = pair.client.sendMessage("0123456789question");
  assert.deepEqual(await pair.client.receiveMessage(), ["second", true]);
  // The server answers only once it has the request: holding it would deadlock.
  const answered = (async (): Promise<void> => {
    assert.deepEqual(await readFrame(pair.conn), frame("0123456789question"));
    await writeAll(pair.conn, frame("answer"));
  })();
  assert.deepEqual(await pair.client.receiveMessage(), ["answer", true]);
  await sent;
  await answered;
});

Deno.test("an oversized send is refused at once while replies are buffered, and the sends around it go out", async () => {
  await using pair = await connectPair(1024, { maxFrameSize: 12 });
  await bufferReplies(pair, ["first", "second"]);
  const before = pair.client.sendMessage("before");
  await assert.rejects(pair.client.sendMessage("x".repeat(13)), FrameTooLargeError);
  await assert.rejects(pair.client.sendMessage("中".repeat(5)), FrameTooLargeError); // 15 bytes
  const after = pair.client.sendMessage("after");
  await Promise.all([before, after]);
  assert.deepEqual(await readFrame(pair.conn), frame("before"));
  assert.deepEqual(await readFrame(pair.conn), frame("after"));
  assert.equal(pair.client.isOpen, true);
});

Deno.test("a send held while replies are buffered settles when the client shuts down", async () => {
  await using pair = await connectPair(1024);
  await bufferReplies(pair, ["first", "second"]);
  const sent = pair.client.sendMessage("0123456789late");
  pair.client.shutdown();
  await sent; // neither held for ever nor an exception
  assert.equal(pair.client.failure, undefined);
  await assert.rejects(pair.client.sendMessage("0123456789later"), Deno.errors.BadResource);
});

Deno.test("sendMessage reports a message neither a string nor a Uint8Array with a rejected promise, not a throw", async () => {
  await using pair = await connectPair(1024);
  const sent = pair.client.sendMessage(42 as unknown as string);
  await assert.rejects(sent, TypeError);
  assert.equal(pair.client.isOpen, true);
});

Deno.test("bytes held while replies are buffered are copied at the call: the caller may reuse its array at once", async () => {
  await using pair = await connectPair(1024);
  await bufferReplies(pair, ["first", "second"]);
  // Both are held ("second" is still buffered); the long one is above the writer's borrow threshold.
  const short = new Uint8Array([0xff, 0xfe, 0x00]);
  const long = new Uint8Array(100 * 1024).map((_, i) => i % 251);
  const longOriginal = long.slice();
  const sent = Promise.all([pair.client.sendMessage(short), pair.client.sendMessage(long)]);
  short.fill(1);
  long.fill(1);
  assert.deepEqual(await pair.client.receiveMessage(), ["second", true]);
  assert.deepEqual(await readFrame(pair.conn), frame(new Uint8Array([0xff, 0xfe, 0x00])));
  assert.deepEqual(await readFrame(pair.conn), frame(longOriginal));
  await sent;
});

Deno.test("text and byte sends interleaved with buffered replies reach the server whole and in order", async () => {
  await using pair = await connectPair(64 * 1024);
  const count = 40; // more than one batch of held sends
  const replies = Array.from({ length: count }, (_, i) => `reply ${i}`);
  await bufferReplies(pair, replies);
  const request = (i: number): string | Uint8Array =>
    i % 2 === 0 ? `0123456789request ${i}` : new Uint8Array([0xff, i, 0x00]);
  const sends: Promise<void>[] = [];
  for (let i = 1; i < count; i++) {
    sends.push(pair.client.sendMessage(request(i - 1)));
    assert.deepEqual(await pair.client.receiveMessage(), [replies[i], true]);
  }
  sends.push(pair.client.sendMessage(request(count - 1)));
  await Promise.all(sends);
  for (let i = 0; i < count; i++) {
    assert.deepEqual(await readFrame(pair.conn), frame(request(i)), `request ${i}`);
  }
});

Deno.test("an oversized byte send is refused at once while replies are buffered, and the sends around it go out", async () => {
  await using pair = await connectPair(1024, { maxFrameSize: 12 });
  await bufferReplies(pair, ["first", "second"]);
  const before = pair.client.sendMessage(new Uint8Array(12).fill(0xff)); // exactly the limit
  await assert.rejects(pair.client.sendMessage(new Uint8Array(13)), FrameTooLargeError);
  const after = pair.client.sendMessage("after");
  await Promise.all([before, after]);
  assert.deepEqual(await readFrame(pair.conn), frame(new Uint8Array(12).fill(0xff)));
  assert.deepEqual(await readFrame(pair.conn), frame("after"));
  assert.equal(pair.client.isOpen, true);
});
