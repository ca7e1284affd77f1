// Copyright 2026 the buffered-framing authors. MIT license.
// A catalogue of bad input against a live BufferedServer. Each misbehaving
// client must lose only its own connection, with one log line naming it and
// the reason; a bystander connected throughout keeps being served, and a new
// client is served correctly afterwards.

import assert from "node:assert/strict";
import { BufferedClient } from "../client.ts";
import type { BufferedServerOptions } from "../server.ts";
import {
  assertDisconnected,
  assertServesNewClient,
  closeQuietly,
  concat,
  connectRaw,
  decodeFrames,
  decodeFramesIn,
  expectedReply,
  formatGarbage,
  frame,
  garbage,
  garbageLimit,
  guard,
  GUARD_MS,
  header,
  hex,
  HOST,
  LiveServer,
  modelFormatStream,
  modelStream,
  mulberry32,
  peerOf,
  randomInt,
  randomText,
  readExactly,
  readReply,
  readUntilClosed,
  resetMidFrame,
  testSeed,
  writeAllTo,
} from "./_faults.ts";
import { type Format, formatName, FORMATS } from "./_formats.ts";

const encoder = new TextEncoder();

/** A connected client that must keep being served while another one misbehaves. */
class Bystander implements AsyncDisposable {
  #count = 0;
  private constructor(readonly client: BufferedClient) {}

  /** Connects, speaking `format` when given (else the default one). */
  static async connect(port: number, format?: Format): Promise<Bystander> {
    return new Bystander(
      await BufferedClient.connect(HOST, port, 64, { receiveTimeout: GUARD_MS, ...format }),
    );
  }

  /** One round trip, checked. */
  async exchange(context: string): Promise<void> {
    const message = `0123456789bystander ${this.#count++} — ✓ 😀`;
    await this.client.sendMessage(message);
    assert.deepEqual(
      await this.client.receiveMessage(),
      [expectedReply(message), true],
      `the bystander is still served ${context}`,
    );
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.client[Symbol.asyncDispose]();
  }
}

interface FaultCase {
  /**
   * What the misbehaving client does, on a raw connection that is closed
   * afterwards; or, for a peer this process cannot play itself, `peer`.
   */
  act?(conn: Deno.TcpConn): Promise<void>;
  /** Plays the misbehaving peer some other way; resolves with its address. */
  peer?(port: number): Promise<string>;
  /** The reason the server must log for it. */
  reason: RegExp;
  options?: BufferedServerOptions;
  bufferSize?: number;
}

/**
 * Runs one misbehaving client against a fresh server while a bystander keeps
 * exchanging messages, then checks the log line, the bystander and a new
 * client.
 */
async function runFault(what: string, fault: FaultCase): Promise<void> {
  await using live = new LiveServer(fault.bufferSize ?? 1024, {
    maxConnections: 3,
    ...fault.options,
  });
  await using bystander = await Bystander.connect(live.port);
  await bystander.exchange(`before ${what}`);

  // The bystander is served throughout (which also keeps it from idling out).
  let faulting = true;
  const busy = (async (): Promise<void> => {
    for (let i = 0; faulting && i < 100_000; i++) await bystander.exchange(`during ${what}`);
  })();
  let peer: string;
  try {
    if (fault.peer !== undefined) {
      peer = await fault.peer(live.port);
    } else {
      const conn = await connectRaw(live.port);
      peer = peerOf(conn);
      try {
        await fault.act?.(conn);
      } finally {
        closeQuietly(conn);
      }
    }
    await assertDisconnected(live.log, peer, fault.reason, what);
  } finally {
    faulting = false;
    await busy;
  }

  await bystander.exchange(`after ${what}`);
  await assertServesNewClient(live.port, what);
  await live.stop();
  assert.equal(live.log.disconnects(peer).length, 1, `still one disconnect line for ${what}`);
}

/** Reads until the server closes the connection, and asserts it sent nothing. */
async function expectClosedWithoutReply(conn: Deno.TcpConn): Promise<void> {
  const { bytes } = await guard(readUntilClosed(conn), "the server to close the connection");
  assert.equal(bytes.byteLength, 0, "no reply to a bad frame");
}

// --- Frames the server must refuse -----------------------------------------

Deno.test("a frame declaring 0xFFFFFFFF bytes is refused and only its client is disconnected", async () => {
  await runFault("a 0xFFFFFFFF header", {
    async act(conn): Promise<void> {
      await writeAllTo(conn, concat(header(0xffff_ffff), encoder.encode("0123456789abc")));
      await expectClosedWithoutReply(conn);
    },
    // Default maxFrameSize: refused from the header alone, nothing allocated.
    reason: /^FrameTooLargeError: Frame of 4294967295 bytes exceeds the limit: 16777216$/,
  });
});

Deno.test("a frame declaring one byte more than maxFrameSize is refused", async () => {
  await runFault("a header of maxFrameSize + 1", {
    options: { maxFrameSize: 1000 },
    async act(conn): Promise<void> {
      await writeAllTo(conn, header(1001));
      await expectClosedWithoutReply(conn);
    },
    reason: /^FrameTooLargeError: Frame of 1001 bytes exceeds the limit: 1000$/,
  });
});

Deno.test("a frame of exactly maxFrameSize bytes is served", async () => {
  await using live = new LiveServer(64, { maxFrameSize: 1000 });
  const client = await BufferedClient.connect(HOST, live.port, 64, { receiveTimeout: GUARD_MS });
  try {
    const message = "0123456789" + "é".repeat(495); // 10 + 990 = 1000 bytes
    assert.equal(encoder.encode(message).byteLength, 1000);
    await client.sendMessage(message);
    assert.deepEqual(await client.receiveMessage(), [expectedReply(message), true]);
  } finally {
    client.shutdown();
  }
});

// --- Connections cut inside a frame ----------------------------------------

Deno.test("a header cut short by a close costs only that connection", async () => {
  await runFault("a header cut short", {
    async act(conn): Promise<void> {
      await writeAllTo(conn, new Uint8Array([0, 0]));
      // close() in runFault: a FIN after 2 of the 4 header bytes.
    },
    reason: /^IncompleteFrameError: Stream ended inside a frame header: 2 of 4 bytes received$/,
  });
});

Deno.test("a payload cut short by a close costs only that connection", async () => {
  await runFault("a payload cut short", {
    async act(conn): Promise<void> {
      await writeAllTo(conn, concat(header(100), filled(30, 0x61)));
    },
    reason: /^IncompleteFrameError: Stream ended inside a frame payload: 30 of 100 bytes received$/,
  });
});

Deno.test("a payload longer than the receive buffer cut short by a close costs only that connection", async () => {
  await runFault("a long payload cut short", {
    bufferSize: 64,
    async act(conn): Promise<void> {
      await writeAllTo(conn, concat(header(1000), filled(300, 0x62)));
    },
    reason:
      /^IncompleteFrameError: Stream ended inside a frame payload: 300 of 1000 bytes received$/,
  });
});

function filled(length: number, fill: number): Uint8Array {
  return new Uint8Array(length).fill(fill);
}

Deno.test("a connection reset in the middle of a frame costs only that connection", async () => {
  await runFault("a reset mid-frame", {
    // An abortive close (RST, no FIN) after half a frame: see resetMidFrame.
    peer: resetMidFrame,
    reason: /^ConnectionReset: /,
  });
});

// --- Bytes that are not the protocol ---------------------------------------

Deno.test("frames that are not valid UTF-8 each cost only their own connection", async () => {
  await using live = new LiveServer(1024, { maxConnections: 3 });
  await using bystander = await Bystander.connect(live.port);
  const invalid: [string, number[]][] = [
    ["a lone continuation byte", [0x80]],
    ["a truncated 2-byte sequence", [0xc3]],
    ["a truncated 4-byte sequence after text", [...encoder.encode("0123456789"), 0xf0, 0x9f, 0x98]],
    ["an overlong encoding of '/'", [0xc0, 0xaf]],
    ["an encoded UTF-16 surrogate", [0xed, 0xa0, 0x80]],
    ["a code point above U+10FFFF", [0xf4, 0x90, 0x80, 0x80]],
    ["the byte 0xFF", [0x41, 0xff, 0x41]],
  ];
  for (const [what, bytes] of invalid) {
    const conn = await connectRaw(live.port);
    const peer = peerOf(conn);
    try {
      await writeAllTo(conn, frame(new Uint8Array(bytes)));
      await expectClosedWithoutReply(conn);
    } finally {
      closeQuietly(conn);
    }
    await assertDisconnected(
      live.log,
      peer,
      new RegExp(`^InvalidUtf8Error: Frame of ${bytes.length} bytes is not valid UTF-8$`),
      what,
    );
    await bystander.exchange(`after ${what}`);
  }
  await assertServesNewClient(live.port, "invalid UTF-8");
});

/** What the server must do with `bytes` followed by a FIN: its replies and its reason. */
function modelServer(
  bytes: Uint8Array,
  maxFrameSize: number,
): { replies: string[]; reason: string } {
  const { payloads, end } = modelStream(bytes, maxFrameSize);
  const replies = payloads.map(expectedReply);
  switch (end.kind) {
    case "clean":
      return { replies, reason: "closed by client" };
    case "too large":
      return {
        replies,
        reason:
          `FrameTooLargeError: Frame of ${end.length} bytes exceeds the limit: ${maxFrameSize}`,
      };
    case "incomplete":
      return {
        replies,
        reason: `IncompleteFrameError: Stream ended inside a frame ${end.part}: ` +
          `${end.received} of ${end.expected} bytes received`,
      };
    case "not UTF-8":
      return {
        replies,
        reason: `InvalidUtf8Error: Frame of ${end.length} bytes is not valid UTF-8`,
      };
  }
}

/**
 * Writes `bytes` to `conn`, then a FIN when `fin`, and returns every byte the
 * server sent until it closed; `conn` is closed after.
 */
async function sendUntilClosed(
  conn: Deno.TcpConn,
  bytes: Uint8Array,
  fin: boolean,
  what: string,
): Promise<Uint8Array> {
  try {
    const reading = readUntilClosed(conn);
    try {
      await writeAllTo(conn, bytes);
      if (fin) await conn.closeWrite();
    } catch {
      // The server may refuse the garbage before it is all written.
    }
    return (await guard(reading, `the server to close (${what})`)).bytes;
  } finally {
    closeQuietly(conn);
  }
}

Deno.test("seeded random garbage gets exactly the replies and the disconnect reason the protocol implies", async () => {
  const seed = testSeed();
  const rng = mulberry32(seed);
  const maxFrameSize = 1000;
  await using live = new LiveServer(128, { maxConnections: 3, maxFrameSize });
  await using bystander = await Bystander.connect(live.port);
  const rounds = 200;
  for (let round = 0; round < rounds; round++) {
    const context = `FAULTS_SEED=${seed}, round ${round}`;
    const bytes = garbage(rng, maxFrameSize);
    const expected = modelServer(bytes, maxFrameSize);
    const conn = await connectRaw(live.port);
    const peer = peerOf(conn);
    const received = await sendUntilClosed(conn, bytes, true, context);
    const why = await assertDisconnected(live.log, peer, /./, context);
    assert.equal(why, expected.reason, `disconnect reason (${context})`);
    assert.deepEqual(decodeFrames(received), expected.replies, `replies (${context})`);
    await bystander.exchange(`after garbage (${context})`);
  }
  await assertServesNewClient(live.port, `${rounds} rounds of garbage (FAULTS_SEED=${seed})`);
});

/** What the server must do with `bytes` in some format: its replies, its reason, and when it decides. */
interface FormatPrediction {
  replies: string[];
  /** The reason the server must log, as text (for an approximate length, the model's exact one). */
  reason: string;
  /** Whether `why`, the reason the server logged, is the one predicted. */
  accepts(why: string): boolean;
  /**
   * Whether the verdict waits for the end of the stream (a clean end, a cut
   * frame). Any other verdict is reached from the bytes up to the fault: the
   * server must reach it with the connection still open.
   */
  needsEndOfStream: boolean;
}

/** What the server must do with `bytes` in `format` followed by a FIN, or by nothing when it need not wait. */
function modelFormatServer(
  format: Format,
  bytes: Uint8Array,
  maxFrameSize: number,
): FormatPrediction {
  const { payloads, end } = modelFormatStream(format, bytes, maxFrameSize);
  const replies = payloads.map(expectedReply);
  const exactly = (reason: string, needsEndOfStream = false): FormatPrediction => ({
    replies,
    reason,
    accepts: (why) => why === reason,
    needsEndOfStream,
  });
  switch (end.kind) {
    case "clean":
      return exactly("closed by client", true);
    case "incomplete":
      return exactly(
        `IncompleteFrameError: Stream ended inside a frame ${end.part}: ` +
          `${end.received} of ${end.expected} bytes received`,
        true,
      );
    case "not UTF-8":
      return exactly(`InvalidUtf8Error: Frame of ${end.length} bytes is not valid UTF-8`);
    case "corrupt": {
      const size = end.header.byteLength === 1 ? "1 byte" : `${end.header.byteLength} bytes`;
      return exactly(
        end.reason === "length-below-header"
          ? `CorruptFrameError: Corrupt frame: the length field [${hex(end.header)}] ` +
            `declares less than its own size, ${size}`
          : `CorruptFrameError: Corrupt frame: the varint length field [${hex(end.header)}] ` +
            `needs more than 5 bytes or exceeds 2^32 - 1`,
      );
    }
    case "too large": {
      const limit = `bytes exceeds the limit: ${maxFrameSize}`;
      if (end.bound === "exact") {
        return exactly(`FrameTooLargeError: Frame of ${end.length} ${limit}`);
      }
      if (end.bound === "at least") {
        return exactly(`FrameTooLargeError: Frame of at least ${end.length} ${limit}`);
      }
      // Past 2^53 a number holds the length only to within a few units in the
      // last place: any integer that close is the length, stated "at least".
      const reason = `FrameTooLargeError: Frame of at least ${end.length} ${limit}`;
      const stated = /^FrameTooLargeError: Frame of at least (\d+) bytes exceeds the limit: (\d+)$/;
      return {
        replies,
        reason: `${reason} (to within 2^-50)`,
        accepts(why): boolean {
          const match = stated.exec(why);
          if (match === null || Number(match[2]) !== maxFrameSize) return false;
          const error = BigInt(match[1]) - end.length;
          return (error < 0n ? -error : error) <= end.length >> 50n;
        },
        needsEndOfStream: false,
      };
    }
  }
}

Deno.test("seeded random garbage in every length-field format gets exactly the replies and the disconnect reason the protocol implies", async () => {
  const seed = testSeed();
  const rng = mulberry32(seed);
  for (const format of FORMATS) {
    // The varint has the most ways to fail: it gets more rounds.
    const rounds = format.lengthField === "varint" ? 120 : 40;
    const name = formatName(format);
    const maxFrameSize = garbageLimit(format);
    // Receive buffers from 1 byte (smaller than most headers) to more than a frame.
    const bufferSize = rng() < 0.25 ? randomInt(rng, 1, 8) : randomInt(rng, 9, 1100);
    await using live = new LiveServer(bufferSize, { maxConnections: 3, maxFrameSize, ...format });
    await using bystander = await Bystander.connect(live.port, format);
    for (let round = 0; round < rounds; round++) {
      const context = `FAULTS_SEED=${seed}, ${name}, bufferSize ${bufferSize}, round ${round}`;
      const bytes = formatGarbage(rng, format, maxFrameSize);
      const expected = modelFormatServer(format, bytes, maxFrameSize);
      // A verdict that does not need the end of the stream must come without
      // it: mostly no FIN then, so that a server waiting for more would hang.
      const sendFin = expected.needsEndOfStream || rng() < 0.25;
      const what = `${context}, ${sendFin ? "then FIN" : "no FIN"}; ` +
        `${bytes.byteLength} bytes: ${hex(bytes.subarray(0, 256))}` +
        (bytes.byteLength > 256 ? " …" : "");
      const conn = await connectRaw(live.port);
      const peer = peerOf(conn);
      const received = await sendUntilClosed(conn, bytes, sendFin, what);
      const why = await assertDisconnected(live.log, peer, /./, what);
      assert.ok(
        expected.accepts(why),
        `disconnect reason (${what}):\n  logged:    ${why}\n  predicted: ${expected.reason}`,
      );
      assert.deepEqual(decodeFramesIn(format, received), expected.replies, `replies (${what})`);
      await bystander.exchange(`after garbage (${what})`);
    }
    await assertServesNewClient(
      live.port,
      `${rounds} rounds of garbage in ${name} (FAULTS_SEED=${seed})`,
      format,
    );
  }
});

// --- Clients that stall ----------------------------------------------------

Deno.test("a client that connects and sends nothing is closed by idleTimeout", async () => {
  await runFault("a silent client", {
    options: { idleTimeout: 300, frameTimeout: 200 },
    async act(conn): Promise<void> {
      await expectClosedWithoutReply(conn);
    },
    reason: /^idle timeout: no frame for 300 ms$/,
  });
});

Deno.test("a client dribbling one byte every 100 ms is closed by frameTimeout although bytes keep coming", async () => {
  await runFault("a dribbling client", {
    options: { idleTimeout: 300, frameTimeout: 200 },
    async act(conn): Promise<void> {
      // At one byte per 100 ms this frame would take 100 s: far past both
      // timeouts, so only a frame timeout counted from the frame's first byte
      // (not from the last byte) closes it, before the test's guard expires.
      const bytes = concat(header(996), new Uint8Array(996).fill(0x64));
      let sent = 0;
      let failed = false;
      let writes = Promise.resolve();
      const closed = readUntilClosed(conn);
      const timer = setInterval(() => {
        if (failed || sent === bytes.byteLength) {
          clearInterval(timer);
          return;
        }
        writes = writes.then(async () => {
          try {
            sent += await conn.write(bytes.subarray(sent, sent + 1));
          } catch {
            failed = true;
          }
        });
      }, 100);
      try {
        const { bytes: reply } = await guard(closed, "the server to close the dribbling client");
        assert.equal(reply.byteLength, 0);
        assert.ok(sent < bytes.byteLength, "the frame was still incomplete when it was closed");
      } finally {
        clearInterval(timer);
        await writes;
      }
    },
    reason: /^frame timeout: frame incomplete after 200 ms$/,
  });
});

/** Frames with 64 KiB replies, 1 MiB a write, for a client that never reads. */
const FLOOD = concat(
  ...Array.from({ length: 16 }, () => frame("0123456789" + "w".repeat(64 * 1024))),
);

/** Keeps writing FLOOD until the connection fails (or a cap far above any socket buffer). */
class Flooder {
  written = 0;
  writesDone = 0;
  pending = false;
  error = "";
  readonly done: Promise<void>;

  constructor(conn: Deno.TcpConn) {
    this.done = (async (): Promise<void> => {
      try {
        while (this.written < 1024 * 1024 * 1024) {
          this.pending = true;
          await writeAllTo(conn, FLOOD);
          this.pending = false;
          this.written += FLOOD.byteLength;
          this.writesDone++;
        }
      } catch (error) {
        this.error = error instanceof Error ? error.name : String(error);
      } finally {
        this.pending = false;
      }
    })();
  }
}

Deno.test("a client that never reads its replies is closed by writeTimeout while others are served", async () => {
  await using live = new LiveServer(64 * 1024, { maxConnections: 3, writeTimeout: 500 });
  await using other = await Bystander.connect(live.port);
  const conn = await connectRaw(live.port);
  const peer = peerOf(conn);
  let exchanges = 0;
  let servedDuringStall = 0;
  let flooder: Flooder | undefined;
  try {
    flooder = new Flooder(conn);
    // The other client keeps exchanging until the flooder is thrown out. An
    // exchange that starts and ends inside one write of the flooder that
    // cannot complete (the server has stopped reading it, being stuck
    // writing replies nobody reads) was served during the stall.
    while (live.log.disconnects(peer).length === 0 && exchanges < 200_000) {
      const before = flooder.pending ? flooder.writesDone : -1;
      await other.exchange(`while a client stalls (exchange ${exchanges})`);
      exchanges++;
      if (before >= 0 && flooder.pending && flooder.writesDone === before) servedDuringStall++;
    }
    await guard(flooder.done, "the flooding client's writes to fail");
  } finally {
    closeQuietly(conn);
    await flooder?.done;
  }
  await assertDisconnected(live.log, peer, /^write timeout: replies not read for 500 ms$/);
  assert.notEqual(flooder.error, "", "the stalled client's connection was closed under it");
  assert.ok(
    servedDuringStall > 0,
    `another client was served while the stalled one was stuck (${exchanges} exchanges, ` +
      `${flooder.written} bytes flooded)`,
  );
  await other.exchange("after the stalled client was closed");
  await assertServesNewClient(live.port, "a client that never reads");
});

// --- Orderly behaviour around faults ---------------------------------------

Deno.test("a client that half-closes after sending still receives every reply", async () => {
  await using live = new LiveServer(256, { maxConnections: 2 });
  const rng = mulberry32(7);
  const messages = Array.from(
    { length: 50 },
    (_, i) => `${i}`.padEnd(10, ".") + randomText(rng, 2000),
  );
  const conn = await connectRaw(live.port);
  const peer = peerOf(conn);
  try {
    await writeAllTo(conn, concat(...messages.map((m) => frame(m))));
    await conn.closeWrite();
    const { bytes, end } = await guard(readUntilClosed(conn), "every reply and the close");
    assert.deepEqual(decodeFrames(bytes), messages.map(expectedReply));
    assert.equal(end, "eof");
  } finally {
    closeQuietly(conn);
  }
  await assertDisconnected(live.log, peer, /^closed by client$/);
  await assertServesNewClient(live.port, "a half-close");
});

Deno.test("replies to the good frames before an invalid UTF-8 frame of the same batch are sent before the close", async () => {
  await runFault("good frames then invalid UTF-8 in one write", {
    async act(conn): Promise<void> {
      const good = ["0123456789first ✓", "0123456789second 😀"];
      await writeAllTo(conn, concat(...good.map((m) => frame(m)), frame(new Uint8Array([0xff]))));
      const { bytes, end } = await guard(readUntilClosed(conn), "the replies and the close");
      assert.deepEqual(decodeFrames(bytes), good.map(expectedReply));
      assert.equal(end, "eof");
    },
    reason: /^InvalidUtf8Error: Frame of 1 bytes is not valid UTF-8$/,
  });
});

Deno.test("replies to the good frames before an oversized header of the same batch are sent before the close", async () => {
  await runFault("good frames then an oversized header in one write", {
    options: { maxFrameSize: 1000 },
    async act(conn): Promise<void> {
      const good = ["0123456789first ✓", "0123456789second 😀"];
      await writeAllTo(conn, concat(...good.map((m) => frame(m)), header(1001)));
      const { bytes, end } = await guard(readUntilClosed(conn), "the replies and the close");
      assert.deepEqual(decodeFrames(bytes), good.map(expectedReply));
      assert.equal(end, "eof");
    },
    reason: /^FrameTooLargeError: Frame of 1001 bytes exceeds the limit: 1000$/,
  });
});

/**
 * Reads `size` bytes 1 KiB at a time (slower than the server writes, so that
 * the server's send buffer stays full); resolves with how many arrived and
 * how the stream ended if it ended first.
 */
async function readSlowly(conn: Deno.TcpConn, size: number): Promise<[number, string]> {
  const chunk = new Uint8Array(1024);
  let received = 0;
  try {
    while (received < size) {
      const n = await conn.read(chunk.subarray(0, Math.min(chunk.byteLength, size - received)));
      if (n === null) return [received, "end of stream"];
      received += n;
    }
  } catch (error) {
    return [received, error instanceof Error ? error.name : String(error)];
  }
  return [received, "complete"];
}

Deno.test("a large reply owed before a bad frame is delivered in full even when more bytes follow the bad frame", async () => {
  // The server answers the good frame, finds the bad one, flushes the reply,
  // closes. The bytes after the bad frame are still unread in its receive
  // buffer at close(), so the kernel resets the connection, dropping the
  // part of the reply still in the send buffer. The client reads slowly so
  // that part is there; the scenario is played up to 5 times.
  const size = 8 * 1024 * 1024;
  for (let attempt = 1; attempt <= 5; attempt++) {
    await using live = new LiveServer(64 * 1024, { maxConnections: 2, maxFrameSize: 2 * size });
    const conn = await connectRaw(live.port);
    const peer = peerOf(conn);
    let outcome: [number, string];
    try {
      const writing = writeAllTo(
        conn,
        concat(
          frame("0123456789" + "a".repeat(size)),
          frame(new Uint8Array([0xff])),
          new Uint8Array(256 * 1024).fill(0x7a),
        ),
      ).catch(() => {}); // the server stops reading at the bad frame
      const head = await guard(readExactly(conn, 4), "the reply header");
      assert.deepEqual(head, header(size));
      outcome = await guard(readSlowly(conn, size), "the reply");
      await writing;
    } finally {
      closeQuietly(conn);
    }
    await assertDisconnected(
      live.log,
      peer,
      /^InvalidUtf8Error: Frame of 1 bytes is not valid UTF-8$/,
    );
    const [received, end] = outcome;
    assert.equal(
      received,
      size,
      `attempt ${attempt}: the reply was cut after ${received} of ${size} bytes by ${end}`,
    );
  }
});

Deno.test("stopping the server delivers in full the replies owed for requests it fully received", async () => {
  // Each request is 12 MiB: its reply is far larger than the socket buffers,
  // so when the server is stopped it is still writing it. Reading the reply's
  // header proves the server received the whole request (it answers only
  // whole frames) before keepRunning is set to false.
  const size = 12 * 1024 * 1024;
  await using live = new LiveServer(64 * 1024, {
    maxConnections: 3,
    maxFrameSize: 2 * size,
    shutdownTimeout: GUARD_MS,
  });
  const conns = await Promise.all([0, 1, 2].map(() => connectRaw(live.port)));
  try {
    const requests = conns.map((_, i) =>
      encoder.encode(`${i}`.padEnd(10, "-") + "ab✓".repeat(size / 5))
    );
    await Promise.all(conns.map((conn, i) => writeAllTo(conn, frame(requests[i]))));
    for (const [i, conn] of conns.entries()) {
      const head = await guard(readExactly(conn, 4), `reply header ${i}`);
      assert.deepEqual(head, header(requests[i].byteLength - 10));
    }

    live.server.keepRunning = false;

    for (const [i, conn] of conns.entries()) {
      const payload = await guard(readExactly(conn, requests[i].byteLength - 10), `reply ${i}`);
      assert.ok(payload !== null, `reply ${i} arrived in full`);
      assert.ok(bytesEqual(payload, requests[i].subarray(10)), `reply ${i} is correct`);
      const rest = await guard(readUntilClosed(conn), `close ${i}`);
      assert.deepEqual(rest, { bytes: new Uint8Array(0), end: "eof" });
    }
  } finally {
    for (const conn of conns) closeQuietly(conn);
  }
  await guard(live.done, "the server to stop"); // after the client side has closed
  for (const conn of conns) {
    await assertDisconnected(live.log, peerOf(conn), /^server stopping$/);
  }
});

Deno.test("stopping the server delivers in full an owed reply even with another request queued behind it", async () => {
  // As above, but the client pipelines a second request once the first
  // reply has started; the server, busy writing that reply, has not read it
  // when it stops. Its receive buffer then holds unread bytes at close(), so
  // the kernel resets the connection, dropping whatever part of the owed
  // reply still sits in the send buffer. A reply is only truncated when the
  // client reads more slowly than the server writes, so the client reads 1
  // KiB at a time, and the scenario is played up to 5 times.
  const size = 8 * 1024 * 1024;
  for (let attempt = 1; attempt <= 5; attempt++) {
    await using live = new LiveServer(64 * 1024, {
      maxConnections: 2,
      maxFrameSize: 2 * size,
      shutdownTimeout: GUARD_MS,
    });
    const conn = await connectRaw(live.port);
    const peer = peerOf(conn);
    let received: number;
    let end: string;
    try {
      await writeAllTo(conn, frame("0123456789" + "a".repeat(size)));
      const head = await guard(readExactly(conn, 4), "the reply header");
      assert.deepEqual(head, header(size), "the server received the whole request");
      await writeAllTo(conn, frame("0123456789 a second request"));

      live.server.keepRunning = false;

      [received, end] = await guard(readSlowly(conn, size), "the reply");
    } finally {
      closeQuietly(conn);
    }
    await guard(live.done, "the server to stop"); // after the client side has closed
    assert.equal(
      received,
      size,
      `attempt ${attempt}: the owed reply was cut after ${received} of ${size} bytes by ${end}; ` +
        `server log: ${live.log.disconnects(peer).join("; ")}`,
    );
  }
});

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Sends a whole frame and half of the next in one write, and waits for the
 * first reply: the server then holds the half frame in its receive buffer
 * (one write under 64 KiB arrives whole on loopback) and waits for the rest.
 */
async function holdHalfFrame(conn: Deno.TcpConn, firstPayloadBytes: number[]): Promise<void> {
  const half = new Uint8Array(10);
  half.set(firstPayloadBytes);
  await writeAllTo(conn, concat(frame("0123456789ready"), header(100), half));
  assert.equal(await guard(readReply(conn), "the first reply"), "ready");
}

Deno.test("stopping the server closes at once a client holding half a frame", async () => {
  await using live = new LiveServer(1024, { shutdownTimeout: 1000 });
  const conn = await connectRaw(live.port);
  const peer = peerOf(conn);
  try {
    await holdHalfFrame(conn, [0x61, 0x61, 0x61, 0x61]);
    live.server.keepRunning = false;
    await guard(readUntilClosed(conn), "the close");
  } finally {
    closeQuietly(conn);
  }
  await guard(live.done, "the server to stop"); // after the client side has closed
  await assertDisconnected(live.log, peer, /^server stopping$/);
});

Deno.test("stopping the server closes at once a client holding half a frame whose payload starts like a short frame", async () => {
  // The 10 payload bytes that arrived start with 00 00 00 02: read as a
  // header, they would declare a 2-byte frame that is "already buffered".
  await using live = new LiveServer(1024, { shutdownTimeout: 1000 });
  const conn = await connectRaw(live.port);
  const peer = peerOf(conn);
  try {
    await holdHalfFrame(conn, [0, 0, 0, 2]);
    live.server.keepRunning = false;
    await guard(readUntilClosed(conn), "the close");
  } finally {
    closeQuietly(conn);
  }
  await guard(live.done, "the server to stop"); // after the client side has closed
  await assertDisconnected(live.log, peer, /^server stopping$/);
});

// --- Connection limits -----------------------------------------------------

async function roundTrip(conn: Deno.TcpConn, message: string): Promise<void> {
  await writeAllTo(conn, frame(message));
  assert.equal(await guard(readReply(conn), `the reply to ${message}`), expectedReply(message));
}

Deno.test("with maxConnections 2 a third client waits in the backlog and is served once one leaves", async () => {
  await using live = new LiveServer(1024, { maxConnections: 2 });
  const a = await connectRaw(live.port);
  const b = await connectRaw(live.port);
  const c = await connectRaw(live.port); // the kernel completes it: it waits in the backlog
  const conns = [a, b, c];
  try {
    await roundTrip(a, "0123456789from a");
    await roundTrip(b, "0123456789from b");
    await writeAllTo(c, frame("0123456789from c ✓"));
    let cAnswered = false;
    const cReply = readReply(c).then((reply) => {
      cAnswered = true;
      return reply;
    });
    // Give the server every chance to serve c wrongly: more round trips on a and b.
    for (let i = 0; i < 20; i++) {
      await roundTrip(a, `0123456789a ${i}`);
      await roundTrip(b, `0123456789b ${i}`);
    }
    assert.equal(cAnswered, false, "the third client is not served while two are");
    assert.equal(live.server.connectionCount, 2);
    assert.ok(!live.log.lines.includes(`${peerOf(c)} connected`));

    a.close();
    assert.equal(await guard(cReply, "the third client's reply"), "from c ✓");
    await roundTrip(b, "0123456789b still served");
    const lines = live.log.lines;
    assert.ok(
      lines.findIndex((l) => l.startsWith(`${peerOf(a)} disconnected: `)) <
        lines.indexOf(`${peerOf(c)} connected`),
      `c was accepted only after a left:\n${lines.join("\n")}`,
    );
  } finally {
    for (const conn of conns) closeQuietly(conn);
  }
  await live.stop();
  assert.equal(live.log.peakConnections(), 2, live.log.lines.join("\n"));
});

Deno.test("with maxConnections 1 a client stalled mid-frame is timed out and the next client is served", async () => {
  await using live = new LiveServer(1024, {
    maxConnections: 1,
    frameTimeout: 200,
    idleTimeout: 300,
  });
  const stalled = await connectRaw(live.port);
  const peer = peerOf(stalled);
  try {
    await writeAllTo(stalled, concat(header(100), new Uint8Array(5).fill(0x65)));
    const next = await BufferedClient.connect(HOST, live.port, 1024, { receiveTimeout: GUARD_MS });
    try {
      await next.sendMessage("0123456789next in line");
      assert.deepEqual(await next.receiveMessage(), ["next in line", true]);
    } finally {
      next.shutdown();
    }
  } finally {
    closeQuietly(stalled);
  }
  await assertDisconnected(live.log, peer, /^frame timeout: frame incomplete after 200 ms$/);
  await assertServesNewClient(live.port, "a stalled client held the only slot");
  await live.stop();
  assert.equal(live.log.peakConnections(), 1);
});

Deno.test("with maxConnections 1 a client that never reads is timed out and the next client is served", async () => {
  await using live = new LiveServer(64 * 1024, { maxConnections: 1, writeTimeout: 300 });
  const stalled = await connectRaw(live.port);
  const peer = peerOf(stalled);
  const flooder = new Flooder(stalled);
  try {
    const next = await BufferedClient.connect(HOST, live.port, 1024, { receiveTimeout: GUARD_MS });
    try {
      await next.sendMessage("0123456789next in line");
      assert.deepEqual(await next.receiveMessage(), ["next in line", true]);
    } finally {
      next.shutdown();
    }
    await guard(flooder.done, "the flooding client's writes to fail");
  } finally {
    closeQuietly(stalled);
    await flooder.done;
  }
  await assertDisconnected(live.log, peer, /^write timeout: replies not read for 300 ms$/);
  await assertServesNewClient(live.port, "a client that never reads held the only slot");
  await live.stop();
  assert.equal(live.log.peakConnections(), 1);
});
