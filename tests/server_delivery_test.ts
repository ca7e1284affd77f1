// Copyright 2026 the buffered-framing authors. MIT license.
// Delivery of replies the server owes, against clients that read slowly:
// the lingering close must never cut a reply (a close with the peer's bytes
// unread resets the connection and destroys what is still in flight), and
// writeTimeout must not cut a client that keeps reading, however slowly.

import assert from "node:assert/strict";
import {
  assertDisconnected,
  closeQuietly,
  concat,
  connectRaw,
  frame,
  guard,
  header,
  LiveServer,
  mulberry32,
  peerOf,
  randomInt,
  readExactly,
  readUntilClosed,
  writeAllTo,
} from "./_faults.ts";
import { answeredPerConnection, startServerProcess } from "./_helpers.ts";

const encoder = new TextEncoder();

/** Resolves after `ms`: the pace of a slow reader, never a synchronization. */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A request of about `bytes` UTF-8 bytes: 10 ASCII characters the server
 * drops, then text with 1- to 4-byte characters that names its sender and
 * number, so that a reply out of order or from elsewhere cannot match.
 */
function request(name: string, bytes: number): Uint8Array {
  const unit = `${name} é中😀 `;
  const body = unit.repeat(Math.max(1, Math.floor(bytes / encoder.encode(unit).byteLength)));
  return encoder.encode(name.slice(0, 10).padEnd(10, "_") + body);
}

/** The reply the demo service owes for `payload`: all but its first 10 (ASCII) bytes. */
function replyTo(payload: Uint8Array): Uint8Array {
  return frame(payload.subarray(10));
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * How many of `expected` (whole frames, in order) `received` starts with,
 * byte for byte, and how many bytes follow them: a reply cut short, or bytes
 * that are no expected reply.
 */
function wholeReplies(
  received: Uint8Array,
  expected: Uint8Array[],
): { replies: number; rest: number } {
  let offset = 0;
  let replies = 0;
  for (const reply of expected) {
    const end = offset + reply.byteLength;
    if (end > received.byteLength || !bytesEqual(received.subarray(offset, end), reply)) break;
    offset = end;
    replies++;
  }
  return { replies, rest: received.byteLength - offset };
}

/** The `N` of `(N frames answered)` ending `line`, or `undefined` when delivery was not confirmed. */
function answeredIn(line: string): number | undefined {
  return answeredPerConnection(line)[0];
}

// --- Fault A: the lingering close never cuts a reply ---------------------

Deno.test("a client that streams more than 1 MiB behind an oversize frame, and reads only afterwards, receives every reply whole", async () => {
  // The server answers the good frames, refuses the header, hangs up and
  // lingers, while the client streams 3 MiB more (64 KiB every few ms, the
  // pace of a client with data to upload) and reads nothing until it has
  // sent them. A linger that stopped draining (after 1 MiB, or a quiet
  // spell) would close with the client's bytes unread, or see more arrive
  // after the close: either way the kernel resets the connection and drops
  // the replies still in flight, here all but the first ~128 KiB.
  const maxFrameSize = 64 * 1024;
  await using live = new LiveServer(16 * 1024, { maxConnections: 2, maxFrameSize });
  const requests = Array.from({ length: 6 }, (_, i) => request(`good ${i}`, 48 * 1024));
  const expected = requests.map(replyTo);
  const junk = new Uint8Array(64 * 1024).fill(0x6a);
  const conn = await connectRaw(live.port);
  const peer = peerOf(conn);
  let sent: string;
  let received: { bytes: Uint8Array; end: string };
  try {
    sent = await guard(
      (async (): Promise<string> => {
        try {
          await writeAllTo(conn, concat(...requests.map(frame), header(maxFrameSize + 1)));
          for (let i = 0; i < 48; i++) {
            await writeAllTo(conn, junk);
            await pause(5);
          }
          return "all sent";
        } catch (error) {
          return `sending failed: ${error instanceof Error ? error.name : error}`;
        }
      })(),
      "the client to send its frames and 3 MiB behind them",
    );
    received = await guard(readUntilClosed(conn), "the replies and the end of stream");
  } finally {
    closeQuietly(conn);
  }
  const { replies, rest } = wholeReplies(received.bytes, expected);
  assert.deepEqual(
    { replies, rest, end: received.end, sent },
    { replies: expected.length, rest: 0, end: "eof", sent: "all sent" },
    "every reply whole and in order, then a clean end of stream; the client could send it all",
  );
  await assertDisconnected(
    live.log,
    peer,
    new RegExp(
      `^FrameTooLargeError: Frame of ${maxFrameSize + 1} bytes exceeds the limit: ` +
        `${maxFrameSize}$`,
    ),
  );
  const [line] = live.log.disconnects(peer);
  assert.equal(answeredIn(line), expected.length, line);
});

/** What a slow pipelining client got before the server closed its connection. */
interface PipelineOutcome {
  peer: string;
  /** Requests written whole. */
  sent: number;
  /** Replies received whole, byte for byte and in order. */
  replies: number;
  /** Bytes after them: a reply cut short, or a wrong one. */
  rest: number;
  /** `"eof"` for a clean end of stream, or the error's name (a reset). */
  end: string;
}

/** Requests a slow pipelining client keeps in flight. */
const WINDOW = 4;
/** Most requests one slow pipelining client sends: a bound, never reached. */
const MAX_REQUESTS = 400;

/**
 * A client that keeps `WINDOW` requests of 8 to 64 KiB in flight and reads
 * its replies 4 KiB at a time with a pause between reads (the load shape of
 * a slow client on a fast server): each reply it completes lets it send
 * another request, before and after the server stops, until the stream
 * ends. `progress` is called with its count of replies completed.
 */
async function slowPipeliner(
  conn: Deno.TcpConn,
  id: number,
  progress: (replies: number) => void,
): Promise<PipelineOutcome> {
  const peer = peerOf(conn);
  const rng = mulberry32(1000 + id);
  const expected: Uint8Array[] = [];
  let sent = 0;
  let completed = 0;
  let ended = false;
  let wake: (() => void) | undefined;

  const writing = (async (): Promise<void> => {
    try {
      while (!ended && sent < MAX_REQUESTS) {
        if (sent - completed >= WINDOW) {
          await new Promise<void>((resolve) => wake = resolve);
          continue;
        }
        const payload = request(`${id}:${sent}`, randomInt(rng, 8 * 1024, 64 * 1024));
        expected.push(replyTo(payload));
        await writeAllTo(conn, frame(payload));
        sent++;
      }
    } catch {
      // The connection ended under a write: what was received tells the story.
    }
  })();

  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(4 * 1024);
  let end = "eof";
  // Frame boundaries, tracked as the bytes arrive, to count completed replies.
  let headerLeft = 4;
  let payloadLeft = 0;
  const head = new Uint8Array(4);
  try {
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
      for (let i = 0; i < n;) {
        if (headerLeft > 0) {
          head[4 - headerLeft--] = buffer[i++];
          if (headerLeft === 0) payloadLeft = new DataView(head.buffer).getUint32(0);
        } else {
          const take = Math.min(payloadLeft, n - i);
          payloadLeft -= take;
          i += take;
        }
        if (headerLeft === 0 && payloadLeft === 0) {
          headerLeft = 4;
          progress(++completed);
          wake?.();
        }
      }
      await pause(5);
    }
  } catch (error) {
    end = error instanceof Error ? error.name : String(error);
  } finally {
    ended = true;
    wake?.();
    closeQuietly(conn); // interrupts a write still under way
    await writing;
  }
  const { replies, rest } = wholeReplies(concat(...chunks), expected);
  return { peer, sent, replies, rest, end };
}

/**
 * Connects `clients` slow pipelining clients to `port`, calls `stop` once
 * each has received a few replies, and resolves with what each received by
 * the time the server closed its connection.
 */
async function stopUnderSlowPipeliners(
  port: number,
  clients: number,
  stop: () => void,
): Promise<PipelineOutcome[]> {
  const before = 3;
  let ready = 0;
  const conns = await Promise.all(Array.from({ length: clients }, () => connectRaw(port)));
  const outcomes = conns.map((conn, id) => {
    let counted = false;
    return slowPipeliner(conn, id, (replies) => {
      if (counted || replies < before) return;
      counted = true;
      if (++ready === clients) stop();
    });
  });
  try {
    return await guard(Promise.all(outcomes), "every slow client to reach its end of stream");
  } catch (error) {
    for (const conn of conns) closeQuietly(conn); // so that a hang fails without leaks
    await Promise.allSettled(outcomes);
    throw error;
  }
}

/**
 * Asserts that each client received whole replies only, then a clean end of
 * stream, and as many as the server's log says it answered.
 */
function assertWholeRepliesAnswered(outcomes: PipelineOutcome[], log: string[]): void {
  for (const outcome of outcomes) {
    const lines = log.filter((line) => line.startsWith(`${outcome.peer} disconnected: `));
    assert.equal(lines.length, 1, `one disconnect line for ${outcome.peer}:\n${log.join("\n")}`);
    const [line] = lines;
    assert.deepEqual(
      { rest: outcome.rest, end: outcome.end, answered: answeredIn(line) },
      { rest: 0, end: "eof", answered: outcome.replies },
      `client ${outcome.peer} got ${outcome.replies} whole replies of ${outcome.sent} requests, ` +
        `then ${outcome.rest} more bytes and ${outcome.end}; the server logged: ${line}`,
    );
    assert.match(line, / disconnected: server stopping \(/);
  }
}

Deno.test("stopping the server under load never cuts a reply a slow pipelining reader is owed", async () => {
  await using live = new LiveServer(64 * 1024, { maxConnections: 8, shutdownTimeout: 20_000 });
  const outcomes = await stopUnderSlowPipeliners(live.port, 6, () => {
    live.server.keepRunning = false;
  });
  await guard(live.done, "the server to stop");
  assertWholeRepliesAnswered(outcomes, live.log.lines);
});

Deno.test("SIGTERM under load never cuts a reply a slow pipelining reader is owed", async () => {
  const [server, port] = await startServerProcess({
    flags: ["--max-connections", "8", "--shutdown-timeout", "20000"],
  });
  await using _ = server;
  const outcomes = await stopUnderSlowPipeliners(port, 4, () => server.child.kill("SIGTERM"));
  const { code, stderr } = await guard(server.finish(), "the server process to exit");
  assert.equal(code, 0, stderr);
  assertWholeRepliesAnswered(outcomes, stderr.split("\n"));
});

// --- Fault B: writeTimeout means "no progress" ---------------------------

/**
 * Reads `length` bytes `chunk` bytes at a time with `ms` between reads, or
 * fewer if the stream ends first; then how the stream ended.
 */
async function readPaced(
  conn: Deno.TcpConn,
  length: number,
  chunk: number,
  ms: number,
): Promise<{ bytes: Uint8Array; end: string }> {
  const bytes = new Uint8Array(length);
  let filled = 0;
  try {
    while (filled < length) {
      const n = await conn.read(bytes.subarray(filled, Math.min(length, filled + chunk)));
      if (n === null) return { bytes: bytes.subarray(0, filled), end: "eof" };
      filled += n;
      await pause(ms);
    }
  } catch (error) {
    return {
      bytes: bytes.subarray(0, filled),
      end: error instanceof Error ? error.name : String(error),
    };
  }
  return { bytes, end: "complete" };
}

/**
 * Sends one request with a reply of `size` bytes and reads the reply `chunk`
 * bytes every `ms`, against a server with `writeTimeout`; asserts that the
 * whole reply arrives and that the client, not a timeout, ended it.
 */
async function assertSteadyReaderServed(
  size: number,
  writeTimeout: number,
  chunk: number,
  ms: number,
): Promise<void> {
  await using live = new LiveServer(64 * 1024, { writeTimeout, maxFrameSize: 2 * size });
  const payload = request("steady", size);
  const expected = replyTo(payload);
  const conn = await connectRaw(live.port);
  const peer = peerOf(conn);
  let received: { bytes: Uint8Array; end: string };
  try {
    await writeAllTo(conn, frame(payload));
    received = await guard(readPaced(conn, expected.byteLength, chunk, ms), "the reply");
  } finally {
    closeQuietly(conn);
  }
  const [line = "(none yet)"] = live.log.disconnects(peer);
  assert.equal(
    received.bytes.byteLength,
    expected.byteLength,
    `the reply was cut after ${received.bytes.byteLength} of ${expected.byteLength} bytes ` +
      `by ${received.end}; the server logged: ${line}`,
  );
  assert.ok(bytesEqual(received.bytes, expected), "the reply is byte for byte the one owed");
  await assertDisconnected(live.log, peer, /^closed by client$/);
  assert.equal(answeredIn(live.log.disconnects(peer)[0]), 1);
}

Deno.test("a client that reads a 12 MiB reply at a steady few MB/s is not cut off by a 1000 ms writeTimeout", async () => {
  // 64 KiB every 10 ms: the reply takes about 3 s to read, three times the
  // timeout. The socket takes reply bytes in bursts: once its buffers are
  // full (about 3.75 MiB on Linux loopback) a write resumes only when about a
  // third of them has drained, here every ~0.3 s, well within the timeout.
  await assertSteadyReaderServed(12 * 1024 * 1024, 1000, 64 * 1024, 10);
});

Deno.test("a stop that runs out of shutdownTimeout while a reply is being written never logs it as answered", async () => {
  // The peer neither reads its 4 MiB reply nor closes: when shutdownTimeout
  // ends the linger, the server cannot know the reply arrived.
  await using live = new LiveServer(64 * 1024, {
    maxFrameSize: 8 * 1024 * 1024,
    shutdownTimeout: 200,
  });
  const conn = await connectRaw(live.port);
  const peer = peerOf(conn);
  try {
    await writeAllTo(conn, frame(request("unread", 4 * 1024 * 1024)));
    // Its reply header shows the server took the request in, and the rest stays unread.
    assert.ok(await guard(readExactly(conn, 4), "the reply header") !== null);
    await live.stop();
  } finally {
    closeQuietly(conn);
  }
  const [line] = live.log.disconnects(peer);
  assert.ok(!line.endsWith("answered)"), `logged as answered: ${line}`);
  assert.match(line, /delivery not confirmed/);
});

Deno.test("a stop that runs out of shutdownTimeout before a silent peer closes or has been silent a whole lingerTimeout does not log its replies as answered", async () => {
  // The server hangs up, lingers, and is cut short by shutdownTimeout: the
  // peer neither closed nor stayed silent for lingerTimeout, so the server
  // cannot know it read its reply (here it did; one that did not looks the same).
  await using live = new LiveServer(1024, { shutdownTimeout: 200, lingerTimeout: 5000 });
  const conn = await connectRaw(live.port);
  const peer = peerOf(conn);
  try {
    await writeAllTo(conn, frame("0123456789read"));
    assert.ok(await guard(readExactly(conn, 8), "the reply") !== null);
    await live.stop();
  } finally {
    closeQuietly(conn);
  }
  assert.match(
    live.log.disconnects(peer)[0],
    / disconnected: server stopping \(1 frame written, delivery not confirmed: .*shutdownTimeout of 200 ms reached before the peer closed\)$/,
  );
});
