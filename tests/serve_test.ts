// Copyright 2026 the buffered-framing authors. MIT license.
// serve(): the handler's contract over loopback, byte by byte on raw sockets.
// Replies, one-way messages, order under async handlers, failures that end
// one connection, backpressure, the payload's lifetime, the statistics, and
// textHandler. Async handlers are held by promises the test settles, never by
// timers: a test that waits for the server waits for an event it can name.

import assert from "node:assert/strict";
import { BufferedClient } from "../client.ts";
import { InvalidUtf8Error } from "../framing.ts";
import { type ConnectionInfo, type FrameHandler, type ServerStats, textHandler } from "../serve.ts";
import {
  assertDisconnected,
  closeQuietly,
  concat,
  connectRaw,
  frame,
  guard,
  header,
  HOST,
  peerOf,
  resetMidFrame,
  writeAllTo,
} from "./_faults.ts";
import { readFrame, utf8 } from "./_helpers.ts";
import {
  decoder,
  expectEnd,
  expectReply,
  NO_CLOSE,
  send,
  serveOn,
  stopAfter,
  Watch,
} from "./_serve.ts";

/** One request, one reply, on a connection of its own: proof that the server still serves. */
async function assertServes(port: number): Promise<void> {
  using conn = await connectRaw(port);
  await send(conn, "ping");
  await expectReply(conn, "pong", "the reply to a new client");
}

/** Echoes, except `ping`, answered `pong`, for {@linkcode assertServes}. */
function echoOr(payload: Uint8Array): Uint8Array | string {
  return decoder.decode(payload) === "ping" ? "pong" : payload;
}

/** `count` requests of different sizes and contents, so that any mix-up shows. */
function distinctRequests(count: number, size: (i: number) => number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => {
    const bytes = new Uint8Array(size(i));
    const tag = utf8(`#${i}:`);
    for (let j = 0; j < bytes.length; j++) bytes[j] = (i * 7 + j * 13) & 0xff;
    bytes.set(tag.subarray(0, bytes.length));
    return bytes;
  });
}

// The handler's replies.

Deno.test("serve() answers each request with the bytes a sync handler returns", async () => {
  const watch = new Watch();
  await using server = serveOn(watch, (payload) => payload);
  using conn = await connectRaw(server.addr.port);
  await send(conn, "one", "two");
  await expectReply(conn, "one");
  await expectReply(conn, "two");
});

Deno.test("serve() sends what an async handler's promise resolves to", async () => {
  const watch = new Watch();
  await using server = serveOn(watch, async (payload) => {
    await Promise.resolve();
    return `${decoder.decode(payload)} done`;
  });
  using conn = await connectRaw(server.addr.port);
  await send(conn, "job");
  await expectReply(conn, "job done");
});

Deno.test("replies leave in request order when async handlers finish in reverse order", async () => {
  const watch = new Watch();
  await using server = serveOn(
    watch,
    (payload, info) => decoder.decode(payload) === "ping" ? "pong" : watch.hold(payload, info),
  );
  using conn = await connectRaw(server.addr.port);
  await send(conn, "first", "second", "third");
  await watch.untilHeld(3, peerOf(conn));
  const [first, second, third] = watch.held;
  // Each resolution is taken in by the server (a round trip on another
  // connection turns its event loop) before the next: the last request's
  // reply is ready first, and must wait.
  third.resolve("reply 3");
  await assertServes(server.addr.port);
  second.resolve("reply 2");
  await assertServes(server.addr.port);
  first.resolve("reply 1");
  await expectReply(conn, "reply 1", "the first reply");
  await expectReply(conn, "reply 2", "the second reply");
  await expectReply(conn, "reply 3", "the third reply");
});

Deno.test("a null or undefined reply sends no frame, and the next reply follows in order", async () => {
  const watch = new Watch();
  await using server = serveOn(watch, (payload) => {
    const text = watch.note(payload);
    if (text === "one-way null") return null;
    if (text === "one-way undefined") return undefined;
    return payload;
  });
  using conn = await connectRaw(server.addr.port);
  await send(conn, "a", "one-way null", "b", "one-way undefined", "c");
  await expectReply(conn, "a");
  await expectReply(conn, "b", "the reply after a one-way message");
  await expectReply(conn, "c", "the reply after a second one-way message");
  assert.deepEqual(watch.seen, ["a", "one-way null", "b", "one-way undefined", "c"]);
});

Deno.test("an async handler resolving to null sends no frame and holds up nothing behind it", async () => {
  const watch = new Watch();
  await using server = serveOn(watch, (payload, info) => watch.hold(payload, info));
  using conn = await connectRaw(server.addr.port);
  await send(conn, "a", "one-way", "b");
  await watch.untilHeld(3, peerOf(conn));
  const [a, oneWay, b] = watch.held;
  b.resolve("B");
  oneWay.resolve(null);
  a.resolve("A");
  await expectReply(conn, "A");
  await expectReply(conn, "B", "the reply after the one-way message");
});

Deno.test("a string reply is sent as its UTF-8 bytes", async () => {
  const text = "héllo, wörld — 中文 😀 e\u0301";
  const watch = new Watch();
  await using server = serveOn(watch, () => text);
  using conn = await connectRaw(server.addr.port);
  await send(conn, "?");
  await expectReply(conn, utf8(text));
});

Deno.test("an empty string reply is one empty frame, not a one-way message", async () => {
  const watch = new Watch();
  await using server = serveOn(watch, (payload) => decoder.decode(payload) === "empty" ? "" : "x");
  using conn = await connectRaw(server.addr.port);
  await send(conn, "empty", "next");
  await expectReply(conn, "", "the empty reply");
  await expectReply(conn, "x", "the reply after it");
});

Deno.test("a 4 MiB reply, above the 64 KiB borrow threshold, arrives whole", async () => {
  const big = new Uint8Array(4 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 16)) & 0xff;
  const watch = new Watch();
  await using server = serveOn(watch, () => big);
  using conn = await connectRaw(server.addr.port);
  await send(conn, "big", "big");
  await expectReply(conn, big, "the first 4 MiB reply");
  await expectReply(conn, big, "the second 4 MiB reply");
});

Deno.test("a 4 MiB request is echoed whole", async () => {
  const [big] = distinctRequests(1, () => 4 * 1024 * 1024);
  const watch = new Watch();
  await using server = serveOn(watch, (payload) => payload);
  using conn = await connectRaw(server.addr.port);
  // Written and read at once: neither side may wait for the other to finish.
  const [, reply] = await Promise.all([send(conn, big, "after"), guard(readFrame(conn), "echo")]);
  assert.deepEqual(reply, frame(big));
  await expectReply(conn, "after", "the reply after the long one");
});

Deno.test("binary payloads that are not UTF-8 are echoed byte for byte", async () => {
  const notText = new Uint8Array([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xf8]);
  const everyByte = Uint8Array.from({ length: 256 }, (_, i) => 255 - i);
  const watch = new Watch();
  await using server = serveOn(watch, (payload) => payload);
  using conn = await connectRaw(server.addr.port);
  await send(conn, notText, everyByte);
  await expectReply(conn, notText);
  await expectReply(conn, everyByte);
});

Deno.test("an empty request reaches the handler as an empty payload and is echoed as an empty frame", async () => {
  const lengths: number[] = [];
  const watch = new Watch();
  await using server = serveOn(watch, (payload) => {
    lengths.push(payload.byteLength);
    return payload;
  });
  using conn = await connectRaw(server.addr.port);
  await send(conn, new Uint8Array(0), "x");
  await expectReply(conn, new Uint8Array(0), "the empty echo");
  await expectReply(conn, "x");
  assert.deepEqual(lengths, [0, 1]);
});

Deno.test("the handler learns the peer's address and the connection's number in accept order", async () => {
  const watch = new Watch();
  await using server = serveOn(watch, (_payload, info) => {
    const addr = info.remoteAddr as Deno.NetAddr;
    return `${info.id} ${info.peer} ${addr.hostname}:${addr.port}`;
  });
  using first = await connectRaw(server.addr.port);
  await send(first, "?");
  await expectReply(first, `1 ${peerOf(first)} ${peerOf(first)}`);
  using second = await connectRaw(server.addr.port);
  await send(second, "?");
  await expectReply(second, `2 ${peerOf(second)} ${peerOf(second)}`);
});

Deno.test("a client that half-closes after its requests still gets the replies of sync handlers", async () => {
  const watch = new Watch();
  await using server = serveOn(watch, (payload) => payload);
  using conn = await connectRaw(server.addr.port);
  await send(conn, "a", "b");
  await conn.closeWrite();
  await expectReply(conn, "a");
  await expectReply(conn, "b");
  await expectEnd(conn);
});

Deno.test("a client that half-closes after its requests still gets the replies of async handlers", async () => {
  const watch = new Watch();
  await using server = serveOn(watch, (payload, info) => watch.hold(payload, info));
  using conn = await connectRaw(server.addr.port);
  await send(conn, "a", "b");
  await watch.untilHeld(2, peerOf(conn));
  await conn.closeWrite();
  // The server reads the end of stream while both handlers are pending:
  // a round trip elsewhere lets it take that in before they settle.
  using other = await connectRaw(server.addr.port);
  await send(other, "c");
  await watch.untilHeld(3, peerOf(other));
  watch.held[2].resolve("C");
  await expectReply(other, "C");
  watch.held[0].resolve("A");
  watch.held[1].resolve("B");
  await expectReply(conn, "A", "the reply to a request sent before the half-close");
  await expectReply(conn, "B", "the second reply to a request sent before the half-close");
  await expectEnd(conn);
});

// A handler that fails ends its own connection only.

Deno.test("a handler that throws ends its connection after the replies to earlier requests", async () => {
  const watch = new Watch();
  await using server = serveOn(watch, (payload) => {
    if (watch.note(payload) === "boom") throw new Error("boom");
    return payload;
  });
  using conn = await connectRaw(server.addr.port);
  await send(conn, "one", "two", "boom", "three");
  await expectReply(conn, "one");
  await expectReply(conn, "two");
  await expectEnd(conn);
  assert.deepEqual(watch.seen, ["one", "two", "boom"], "nothing after the failure is handled");
});

Deno.test("a handler that throws is logged once, naming the peer and the error", async () => {
  const watch = new Watch();
  await using server = serveOn(watch, (payload) => {
    if (decoder.decode(payload) === "boom") throw new Error("boom");
    return payload;
  });
  const conn = await connectRaw(server.addr.port);
  const peer = peerOf(conn);
  try {
    await send(conn, "one", "boom");
    await expectReply(conn, "one");
    await expectEnd(conn);
  } finally {
    conn.close();
  }
  await assertDisconnected(watch.recorder, peer, /^handler failed: Error: boom$/);
  const mentions = watch.lines.filter((line) => line.includes("boom"));
  assert.equal(mentions.length, 1, `one line about the failure:\n${watch.lines.join("\n")}`);
  assert.ok(mentions[0].startsWith(`${peer} `), mentions[0]);
});

Deno.test("a handler that throws leaves other connections and new clients served", async () => {
  const watch = new Watch();
  await using server = serveOn(watch, (payload) => {
    if (decoder.decode(payload) === "boom") throw new Error("boom");
    return echoOr(payload);
  });
  using bystander = await connectRaw(server.addr.port);
  await send(bystander, "before");
  await expectReply(bystander, "before");
  using failing = await connectRaw(server.addr.port);
  await send(failing, "boom");
  await expectEnd(failing);
  await send(bystander, "after");
  await expectReply(bystander, "after", "the other connection's reply after the failure");
  await assertServes(server.addr.port);
});

Deno.test("a handler whose promise rejects ends its connection like a throw", async () => {
  const watch = new Watch();
  await using server = serveOn(watch, async (payload) => {
    await Promise.resolve();
    if (decoder.decode(payload) === "boom") throw new Error("rejected");
    return echoOr(payload);
  });
  const conn = await connectRaw(server.addr.port);
  const peer = peerOf(conn);
  try {
    await send(conn, "one", "two", "boom", "three");
    await expectReply(conn, "one");
    await expectReply(conn, "two");
    await expectEnd(conn);
  } finally {
    conn.close();
  }
  await assertDisconnected(watch.recorder, peer, /^handler failed: Error: rejected$/);
  await assertServes(server.addr.port);
});

Deno.test("a rejection waits for the replies before it, even ones still pending", async () => {
  const watch = new Watch();
  await using server = serveOn(watch, (payload, info) => watch.hold(payload, info));
  using conn = await connectRaw(server.addr.port);
  await send(conn, "slow", "failing");
  await watch.untilHeld(2, peerOf(conn));
  const [slow, failing] = watch.held;
  failing.reject(new Error("rejected"));
  slow.resolve("the slow one's reply");
  await expectReply(conn, "the slow one's reply");
  await expectEnd(conn);
});

Deno.test("a handler returning a number ends its connection like a throw", async () => {
  const watch = new Watch();
  await using server = serveOn(
    watch,
    ((payload: Uint8Array) =>
      decoder.decode(payload) === "bad" ? 42 : payload) as unknown as FrameHandler,
  );
  const conn = await connectRaw(server.addr.port);
  const peer = peerOf(conn);
  try {
    await send(conn, "one", "bad", "three");
    await expectReply(conn, "one");
    await expectEnd(conn);
  } finally {
    conn.close();
  }
  await assertDisconnected(
    watch.recorder,
    peer,
    /^handler failed: TypeError: Invalid handler result: .*got number$/,
  );
});

// Backpressure.

for (const maxInFlight of [1, 4]) {
  Deno.test(`with maxInFlight ${maxInFlight}, a client pipelining 100 requests has ${maxInFlight} handled at once`, async () => {
    const watch = new Watch();
    await using server = serveOn(
      watch,
      (payload, info) => decoder.decode(payload) === "ping" ? "pong" : watch.hold(payload, info),
      { maxInFlight },
    );
    using conn = await connectRaw(server.addr.port);
    const requests = Array.from({ length: 100 }, (_, i) => `request ${i}`);
    await send(conn, ...requests);
    try {
      await watch.untilHeld(maxInFlight, peerOf(conn));
      // The server could read more now if it would: let its event loop turn.
      await assertServes(server.addr.port);
      assert.equal(watch.held.length, maxInFlight, "calls before any reply left");
      assert.deepEqual(watch.held.map((call) => call.text), requests.slice(0, maxInFlight));
    } finally {
      // Nothing left pending for the stop to wait on.
      for (const call of watch.held) call.resolve(null);
    }
  });
}

Deno.test("with maxInFlight 4, 100 pipelined requests are all answered in order", async () => {
  const watch = new Watch();
  await using server = serveOn(watch, (payload, info) => watch.hold(payload, info), {
    maxInFlight: 4,
  });
  using conn = await connectRaw(server.addr.port);
  const requests = Array.from({ length: 100 }, (_, i) => `request ${i}`);
  await send(conn, ...requests);
  let released = 0;
  for (const [i, request] of requests.entries()) {
    if (i >= released) {
      await watch.untilHeld(i + 1, peerOf(conn));
      // Newest first, of what the server has handed out: the order is the server's job.
      for (let j = watch.held.length - 1; j >= released; j--) {
        watch.held[j].resolve(watch.held[j].text.toUpperCase());
      }
      released = watch.held.length;
    }
    await expectReply(conn, request.toUpperCase(), `the reply to ${request}`);
  }
});

// The payload's lifetime: the handler's until its promise settles.

/**
 * Holds every request in an async handler (receive buffer of 64 bytes, so
 * later reads refill it), checks each held payload after all have arrived,
 * then releases them in `order` and expects every reply, in request order.
 */
async function assertHeldPayloadsIntact(
  requests: Uint8Array[],
  order: "as sent" | "reversed",
): Promise<void> {
  const watch = new Watch();
  await using server = serveOn(watch, (payload, info) => watch.hold(payload, info), {
    bufferSize: 64,
    maxInFlight: 1000,
  });
  using conn = await connectRaw(server.addr.port);
  await send(conn, ...requests);
  await watch.untilHeld(requests.length, peerOf(conn));
  for (const [i, call] of watch.held.entries()) {
    assert.deepEqual(call.payload, requests[i], `request ${i}'s payload, read after the others`);
  }
  const held = order === "as sent" ? watch.held : [...watch.held].reverse();
  for (const call of held) call.resolve(call.payload.slice());
  for (const [i, request] of requests.entries()) {
    await expectReply(conn, request, `the reply to request ${i}`);
  }
}

Deno.test("an async handler reads its payload intact after later requests refilled the receive buffer", async () => {
  await assertHeldPayloadsIntact(distinctRequests(100, (i) => 8 + (i * 5) % 40), "as sent");
});

Deno.test("an async handler's payload longer than the receive buffer stays intact while later long frames arrive", async () => {
  await assertHeldPayloadsIntact(
    distinctRequests(12, (i) => i === 5 ? 70 * 1024 : 100 + i * 37),
    "reversed",
  );
});

Deno.test("a sync reply that is a view of its payload keeps its bytes while it waits behind a pending one", async () => {
  const requests = distinctRequests(60, (i) => 8 + (i * 11) % 50);
  const watch = new Watch();
  await using server = serveOn(
    watch,
    // The first request is held; every other one is echoed at once, with the
    // payload itself, which must wait for the first reply to leave.
    (payload, info) => watch.seen.length === 0 ? watch.hold(payload, info) : echoNoted(payload),
    { bufferSize: 64, maxInFlight: 1000 },
  );
  function echoNoted(payload: Uint8Array): Uint8Array {
    watch.note(payload);
    return payload;
  }
  using conn = await connectRaw(server.addr.port);
  await send(conn, ...requests);
  await watch.until(
    () => watch.seen.length === requests.length || watch.disconnected(peerOf(conn)),
    "every request handled",
  );
  assert.equal(watch.seen.length, requests.length, watch.lines.join("\n"));
  watch.held[0].resolve(watch.held[0].payload.slice());
  for (const [i, request] of requests.entries()) {
    await expectReply(conn, request, `the reply to request ${i}`);
  }
});

Deno.test("an async handler may reply with its payload view itself", async () => {
  const requests = distinctRequests(30, (i) => 8 + (i * 17) % 50);
  const watch = new Watch();
  await using server = serveOn(watch, async (payload, info) => {
    await watch.hold(payload, info);
    return payload;
  }, { bufferSize: 64, maxInFlight: 1000 });
  using conn = await connectRaw(server.addr.port);
  await send(conn, ...requests);
  await watch.untilHeld(requests.length, peerOf(conn));
  for (const call of [...watch.held].reverse()) call.resolve(null);
  for (const [i, request] of requests.entries()) {
    await expectReply(conn, request, `the reply to request ${i}`);
  }
});

// Statistics.

Deno.test("stats() counts the connections, frames and bytes of a known workload", async () => {
  const watch = new Watch();
  await using server = serveOn(watch, (payload) => payload[0] === 0x2d ? null : payload);
  const perClient = (i: number): string[] => ["a".repeat(i + 1), "-one-way", "bb".repeat(10), ""];
  const conns = await Promise.all([0, 1, 2].map(() => connectRaw(server.addr.port)));
  try {
    await Promise.all(conns.map(async (conn, i) => {
      const [first, , third, fourth] = perClient(i);
      await send(conn, ...perClient(i));
      await expectReply(conn, first);
      await expectReply(conn, third);
      await expectReply(conn, fourth);
    }));
    const live = server.stats();
    assert.equal(live.connections, 3, "connections open");
    assert.equal(live.accepted, 3, "accepted while open");
    assert.equal(live.framesReceived, 12, "frames received while open");
  } finally {
    conns.forEach(closeQuietly);
  }
  const stats = await stopAfter(server, watch, conns.map(peerOf));
  const requests = [0, 1, 2].flatMap(perClient).map((text) => utf8(text).byteLength);
  const replies = [0, 1, 2].flatMap(perClient).filter((text) => !text.startsWith("-"))
    .map((text) => utf8(text).byteLength);
  assert.deepEqual(stats, {
    connections: 0,
    accepted: 3,
    framesReceived: 12,
    framesSent: 9,
    bytesReceived: requests.reduce((sum, n) => sum + 4 + n, 0),
    bytesSent: replies.reduce((sum, n) => sum + 4 + n, 0),
    closed: { ...NO_CLOSE, closedByClient: 3 },
  });
});

/** Replies with the request itself. */
function echo(payload: Uint8Array): Uint8Array {
  return payload;
}

/**
 * Serves one raw connection that `drive` plays and then closes, waits for the
 * server to log its end, stops the server and returns its statistics and log.
 */
async function statsAfterOne(
  handler: FrameHandler,
  options: Parameters<typeof serveOn>[2],
  drive: (conn: Deno.TcpConn) => Promise<void>,
): Promise<{ stats: ServerStats; log: string }> {
  const watch = new Watch();
  await using server = serveOn(watch, handler, options);
  const conn = await connectRaw(server.addr.port);
  try {
    await drive(conn);
  } finally {
    conn.close();
  }
  const stats = await stopAfter(server, watch, [peerOf(conn)]);
  return { stats, log: watch.lines.join("\n") };
}

Deno.test("stats() counts a connection ended by an oversize frame as frameTooLarge", async () => {
  const { stats } = await statsAfterOne(echo, { maxFrameSize: 16 }, async (conn) => {
    await writeAllTo(conn, concat(frame("ok"), header(17), new Uint8Array(17)));
    await expectReply(conn, "ok", "the reply owed before the oversize frame");
    await expectEnd(conn);
  });
  assert.deepEqual(stats.closed, { ...NO_CLOSE, frameTooLarge: 1 });
  assert.equal(stats.framesReceived, 1, "the refused frame is not a request");
  assert.equal(stats.bytesReceived, 4 + 2);
});

Deno.test("stats() counts a connection ended by invalid UTF-8 under textHandler as invalidText", async () => {
  const { stats } = await statsAfterOne(textHandler((text) => text), {}, async (conn) => {
    await send(conn, new Uint8Array([0xff]));
    await expectEnd(conn);
  });
  assert.deepEqual(stats.closed, { ...NO_CLOSE, invalidText: 1 });
});

Deno.test("stats() counts a connection ended by a failed handler as handlerError", async () => {
  const fail = (): never => {
    throw new Error("boom");
  };
  const { stats } = await statsAfterOne(fail, {}, async (conn) => {
    await send(conn, "x");
    await expectEnd(conn);
  });
  assert.deepEqual(stats.closed, { ...NO_CLOSE, handlerError: 1 });
  assert.equal(stats.framesReceived, 1, "the failed request was handed to the handler");
  assert.equal(stats.framesSent, 0);
});

Deno.test("stats() counts a connection ended by the idle timeout as timeout", async () => {
  const { stats, log } = await statsAfterOne(echo, { idleTimeout: 50 }, expectEnd);
  assert.deepEqual(stats.closed, { ...NO_CLOSE, timeout: 1 });
  assert.match(log, /disconnected: idle timeout: no frame for 50 ms/);
});

Deno.test("stats() counts a connection whose peer ends the stream inside a frame as incompleteFrame", async () => {
  const { stats } = await statsAfterOne(echo, {}, async (conn) => {
    await writeAllTo(conn, concat(header(10), utf8("abc")));
  });
  assert.deepEqual(stats.closed, { ...NO_CLOSE, incompleteFrame: 1 });
});

Deno.test("stats() counts a connection reset by its peer as reset", async () => {
  const watch = new Watch();
  await using server = serveOn(watch, (payload) => payload);
  const peer = await resetMidFrame(server.addr.port);
  const stats = await stopAfter(server, watch, [peer]);
  assert.deepEqual(stats.closed, { ...NO_CLOSE, reset: 1 });
});

Deno.test("stats() counts a connection the server stopped as serverStopping", async () => {
  const watch = new Watch();
  await using server = serveOn(watch, (payload) => payload);
  using conn = await connectRaw(server.addr.port);
  await send(conn, "x");
  await expectReply(conn, "x");
  const stopped = server.shutdown();
  await expectEnd(conn);
  conn.close();
  await guard(stopped, "the server to stop");
  assert.deepEqual(server.stats().closed, { ...NO_CLOSE, serverStopping: 1 });
});

// textHandler.

Deno.test("textHandler hands the handler each payload decoded as UTF-8", async () => {
  const texts: string[] = [];
  const watch = new Watch();
  await using server = serveOn(
    watch,
    textHandler((text) => {
      texts.push(text);
      return text.toUpperCase();
    }),
  );
  using conn = await connectRaw(server.addr.port);
  await send(conn, "héllo 😀", "");
  await expectReply(conn, "HÉLLO 😀");
  await expectReply(conn, "");
  assert.deepEqual(texts, ["héllo 😀", ""]);
});

Deno.test("textHandler ends the connection on invalid UTF-8 and logs InvalidUtf8Error", async () => {
  const watch = new Watch();
  await using server = serveOn(watch, textHandler((text) => text));
  const conn = await connectRaw(server.addr.port);
  const peer = peerOf(conn);
  try {
    await send(conn, "fine", new Uint8Array([0xc3, 0x28, 0xff]), "never");
    await expectReply(conn, "fine", "the reply owed before the invalid text");
    await expectEnd(conn);
  } finally {
    conn.close();
  }
  await assertDisconnected(
    watch.recorder,
    peer,
    /^InvalidUtf8Error: Frame of 3 bytes is not valid UTF-8$/,
  );
});

Deno.test("textHandler throws the InvalidUtf8Error class that a BufferedClient reports", () => {
  const handler = textHandler((text) => text);
  const info: ConnectionInfo = {
    remoteAddr: { transport: "tcp", hostname: HOST, port: 1 },
    peer: `${HOST}:1`,
    id: 1,
  };
  assert.throws(() => handler(new Uint8Array([0x80]), info), InvalidUtf8Error);
});

Deno.test("a BufferedClient given a reply that is not UTF-8 fails with InvalidUtf8Error", async () => {
  const watch = new Watch();
  await using server = serveOn(watch, () => new Uint8Array([0x61, 0xff]));
  await using client = await BufferedClient.connect(HOST, server.addr.port);
  await client.sendMessage("?");
  assert.deepEqual(await client.receiveMessage(), ["", false]);
  assert.ok(client.failure instanceof InvalidUtf8Error, String(client.failure));
  assert.equal(client.failure.message, "Frame of 2 bytes is not valid UTF-8");
});

// Connections.

Deno.test("serve() serves many clients at once without maxConnections set", async () => {
  const watch = new Watch();
  await using server = serveOn(watch, (payload) => payload);
  const conns = await Promise.all(
    Array.from({ length: 20 }, () => connectRaw(server.addr.port)),
  );
  try {
    await Promise.all(conns.map(async (conn, i) => {
      await send(conn, `client ${i}`);
      await expectReply(conn, `client ${i}`, `client ${i}'s reply, with 19 others connected`);
    }));
    assert.equal(server.stats().connections, 20);
  } finally {
    conns.forEach(closeQuietly);
  }
});
