// Copyright 2026 the buffered-framing authors. MIT license.
// Unit tests for framing.ts and _utf8.ts, over in-memory fake sources and sinks.

import assert from "node:assert/strict";
import {
  BORROW_THRESHOLD,
  type ByteSink,
  type ByteSource,
  DEFAULT_BUFFER_SIZE,
  DEFAULT_MAX_FRAME_SIZE,
  encodeFrame,
  FrameReader,
  type FrameReaderOptions,
  FrameTooLargeError,
  FrameWriter,
  HEADER_SIZE,
  IncompleteFrameError,
  writeAll,
  writeFrame,
} from "../framing.ts";
import { isUtf8, offsetAfterCodePoints, skipCodePoints, utf8ByteLength } from "../_utf8.ts";
import { concat, frames, MIXED_TEXT, splitAt } from "./_bytes.ts";

// ---------------------------------------------------------------------------
// Helpers and fakes
// ---------------------------------------------------------------------------

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Cuts `bytes` into pieces of `size` bytes (the last may be shorter). */
function chunksOf(bytes: Uint8Array, size: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.byteLength; offset += size) {
    chunks.push(bytes.subarray(offset, offset + size));
  }
  return chunks;
}

/**
 * Asserts that `actual` holds exactly the bytes of `expected`. Unlike
 * `assert.deepEqual`, a failure on long arrays reports fast and briefly.
 */
function assertBytes(
  actual: Uint8Array | null | undefined,
  expected: Uint8Array,
  what: string,
): void {
  assert.ok(actual instanceof Uint8Array, `${what}: got ${actual}`);
  assert.equal(actual.byteLength, expected.byteLength, `${what}: length`);
  const mismatch = actual.findIndex((byte, i) => byte !== expected[i]);
  assert.equal(mismatch, -1, `${what}: index of the first differing byte`);
}

function text(payload: Uint8Array | null): string {
  assert.ok(payload !== null, "expected a payload, got null");
  return decoder.decode(payload);
}

/**
 * A byte source that hands out pre-scripted chunks, one per `read` call. It
 * never writes more than `p` holds: what does not fit is kept for the next
 * call. It records the length of every `p` it was asked to fill.
 */
class ScriptedSource implements ByteSource {
  /** Length of the `p` of every `read` call, in call order. */
  readonly requested: number[] = [];
  /** Called at the start of every `read`, before anything is handed out. */
  onRead: (() => void) | undefined;
  #chunks: Uint8Array[];
  #end: Error | undefined;

  /** `end`, when given, is what `read` rejects with once the chunks run out, instead of `null`. */
  constructor(chunks: Uint8Array[], end?: Error) {
    this.#chunks = chunks.map((chunk) => chunk.slice());
    this.#end = end;
  }

  /** Number of `read` calls made so far. */
  get reads(): number {
    return this.requested.length;
  }

  read(p: Uint8Array): Promise<number | null> {
    this.requested.push(p.byteLength);
    this.onRead?.();
    // A reader asking for nothing would spin forever: fail instead of hanging.
    if (p.byteLength === 0) throw new Error("read() was asked to fill 0 bytes");
    const chunk = this.#chunks.shift();
    if (chunk === undefined) return this.#end ? Promise.reject(this.#end) : Promise.resolve(null);
    const n = Math.min(chunk.byteLength, p.byteLength);
    p.set(chunk.subarray(0, n));
    if (n < chunk.byteLength) this.#chunks.unshift(chunk.subarray(n));
    return Promise.resolve(n);
  }
}

/** A byte sink that takes at most `perWrite` bytes a call and records what it got. */
class TricklingSink implements ByteSink {
  /** Length of the `p` of every `write` call, in call order. */
  readonly offered: number[] = [];
  /** Copy of the bytes each `write` call took, in call order. */
  readonly taken: Uint8Array[] = [];
  readonly perWrite: number;

  constructor(perWrite: number) {
    this.perWrite = perWrite;
  }

  /** Every byte taken, in order. */
  get received(): Uint8Array {
    return concat(...this.taken);
  }

  write(p: Uint8Array): Promise<number> {
    this.offered.push(p.byteLength);
    const n = Math.min(this.perWrite, p.byteLength);
    this.taken.push(p.slice(0, n));
    return Promise.resolve(n);
  }
}

/** What a {@linkcode StallingSink} throws when called too often: the code under test kept retrying. */
class TooManyWritesError extends Error {
  constructor(calls: number) {
    super(`Sink called too often: ${calls} calls`);
    this.name = "TooManyWritesError";
  }
}

/**
 * A byte sink that takes `accepted` bytes in all, at most `perWrite` a call,
 * and then nothing: every later `write` resolves to 0. It rejects with a
 * {@linkcode TooManyWritesError} past `MAX_CALLS` calls, so that code that
 * retries for ever fails the test instead of hanging it.
 */
class StallingSink implements ByteSink {
  static readonly MAX_CALLS = 1000;
  /** Number of `write` calls made so far. */
  calls = 0;
  #left: number;
  #perWrite: number;

  constructor(accepted: number, perWrite = accepted) {
    this.#left = accepted;
    this.#perWrite = perWrite;
  }

  write(p: Uint8Array): Promise<number> {
    this.calls++;
    if (this.calls > StallingSink.MAX_CALLS) {
      return Promise.reject(new TooManyWritesError(this.calls));
    }
    const n = Math.min(this.#left, this.#perWrite, p.byteLength);
    this.#left -= n;
    return Promise.resolve(n);
  }
}

function isWriteZero(written: number, total: number): (error: unknown) => boolean {
  return (error: unknown): boolean => {
    assert.ok(error instanceof Deno.errors.WriteZero, `expected WriteZero, got ${error}`);
    assert.equal(
      error.message,
      `Sink accepted 0 bytes of a write: ${written} of ${total} bytes written`,
    );
    return true;
  };
}

async function readAll(reader: FrameReader): Promise<Uint8Array[]> {
  const payloads: Uint8Array[] = [];
  while (true) {
    const payload = await reader.read();
    if (payload === null) return payloads;
    payloads.push(payload);
  }
}

async function readAllText(reader: FrameReader): Promise<string[]> {
  return (await readAll(reader)).map((payload) => decoder.decode(payload));
}

function isFrameTooLarge(length: number, maxFrameSize: number): (error: unknown) => boolean {
  return (error: unknown): boolean => {
    assert.ok(error instanceof FrameTooLargeError, `expected FrameTooLargeError, got ${error}`);
    assert.equal(error.name, "FrameTooLargeError");
    assert.equal(error.length, length);
    assert.equal(error.maxFrameSize, maxFrameSize);
    return true;
  };
}

function isIncompleteFrame(
  part: "header" | "payload",
  expected: number,
  received: number,
): (error: unknown) => boolean {
  return (error: unknown): boolean => {
    assert.ok(error instanceof IncompleteFrameError, `expected IncompleteFrameError, got ${error}`);
    assert.equal(error.name, "IncompleteFrameError");
    assert.equal(error.part, part);
    assert.equal(error.expected, expected);
    assert.equal(error.received, received);
    assert.equal(error.missing, expected - received);
    return true;
  };
}

function isRangeErrorNaming(option: string, value: number): (error: unknown) => boolean {
  return (error: unknown): boolean => {
    assert.ok(error instanceof RangeError, `expected RangeError, got ${error}`);
    assert.ok(error.message.includes(option), `message does not name ${option}: ${error.message}`);
    assert.ok(
      error.message.includes(String(value)),
      `message does not name the value ${value}: ${error.message}`,
    );
    return true;
  };
}

// ---------------------------------------------------------------------------
// encodeFrame
// ---------------------------------------------------------------------------

Deno.test("encodeFrame writes a 4-byte big-endian byte length and the UTF-8 of text", async (t) => {
  const cases: [string, number[]][] = [
    ["hi", [0, 0, 0, 2, 0x68, 0x69]],
    ["é", [0, 0, 0, 2, 0xc3, 0xa9]],
    ["中", [0, 0, 0, 3, 0xe4, 0xb8, 0xad]],
    ["😀", [0, 0, 0, 4, 0xf0, 0x9f, 0x98, 0x80]],
    ["e\u0301", [0, 0, 0, 3, 0x65, 0xcc, 0x81]],
    ["a中😀", [0, 0, 0, 8, 0x61, 0xe4, 0xb8, 0xad, 0xf0, 0x9f, 0x98, 0x80]],
    // A lone surrogate is written as U+FFFD, as TextEncoder does.
    ["\ud800", [0, 0, 0, 3, 0xef, 0xbf, 0xbd]],
  ];
  for (const [payload, expected] of cases) {
    await t.step(JSON.stringify(payload), () => {
      assert.deepEqual(encodeFrame(payload), new Uint8Array(expected));
    });
  }
});

Deno.test("encodeFrame copies bytes after their length", () => {
  assert.deepEqual(
    encodeFrame(new Uint8Array([1, 0, 255])),
    new Uint8Array([0, 0, 0, 3, 1, 0, 255]),
  );
});

Deno.test("encodeFrame copies only the bytes a subarray views", () => {
  const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
  assert.deepEqual(encodeFrame(backing.subarray(2, 5)), new Uint8Array([0, 0, 0, 3, 1, 2, 3]));
});

Deno.test("encodeFrame writes an empty payload as a length of zero", () => {
  assert.deepEqual(encodeFrame(""), new Uint8Array([0, 0, 0, 0]));
  assert.deepEqual(encodeFrame(new Uint8Array(0)), new Uint8Array([0, 0, 0, 0]));
});

Deno.test("encodeFrame writes every byte of the length in big-endian order", () => {
  const frame = encodeFrame(new Uint8Array(0x01_02_03));
  assert.equal(frame.byteLength, 4 + 0x01_02_03);
  assert.deepEqual(frame.subarray(0, 4), new Uint8Array([0, 1, 2, 3]));
});

Deno.test("encodeFrame throws FrameTooLargeError naming the byte length and the limit", () => {
  // "hé" is 2 characters but 3 bytes: the limit is on bytes.
  assert.throws(() => encodeFrame("hé", { maxFrameSize: 2 }), isFrameTooLarge(3, 2));
  assert.throws(() => encodeFrame(new Uint8Array(5), { maxFrameSize: 4 }), isFrameTooLarge(5, 4));
  assert.throws(() => encodeFrame("x", { maxFrameSize: 0 }), isFrameTooLarge(1, 0));
});

Deno.test("encodeFrame accepts a payload of exactly maxFrameSize bytes", () => {
  assert.deepEqual(
    encodeFrame("hé", { maxFrameSize: 3 }),
    new Uint8Array([0, 0, 0, 3, 0x68, 0xc3, 0xa9]),
  );
  assert.deepEqual(encodeFrame("", { maxFrameSize: 0 }), new Uint8Array([0, 0, 0, 0]));
});

// ---------------------------------------------------------------------------
// writeAll and writeFrame
// ---------------------------------------------------------------------------

Deno.test("writeAll delivers exactly the given bytes to a sink that takes a few at a time", async (t) => {
  const bytes = new Uint8Array(20).map((_, i) => i * 7);
  for (const perWrite of [1, 3, 7, 20, 100]) {
    await t.step(`${perWrite} bytes a write`, async () => {
      const sink = new TricklingSink(perWrite);
      await writeAll(sink, bytes);
      assert.deepEqual(sink.received, bytes);
      assert.equal(sink.offered.length, Math.ceil(bytes.byteLength / perWrite));
    });
  }
});

Deno.test("writeAll makes no write call for no bytes", async () => {
  const sink = new TricklingSink(1);
  await writeAll(sink, new Uint8Array(0));
  assert.deepEqual(sink.offered, []);
});

Deno.test("writeAll rejects with WriteZero once the sink takes no bytes, instead of retrying for ever", async (t) => {
  const bytes = new Uint8Array(20);
  const cases: [string, StallingSink, number, number][] = [
    // name, sink, bytes written before the stall, write calls in all
    ["a sink that takes nothing", new StallingSink(0), 0, 1],
    ["a sink that takes 5 bytes, 2 a call, then nothing", new StallingSink(5, 2), 5, 4],
  ];
  for (const [name, sink, written, calls] of cases) {
    await t.step(name, async () => {
      await assert.rejects(writeAll(sink, bytes), isWriteZero(written, bytes.byteLength));
      assert.equal(sink.calls, calls);
    });
  }
});

Deno.test("writeFrame delivers exactly the frame to a sink that takes a few bytes at a time", async (t) => {
  for (const perWrite of [1, 3]) {
    await t.step(`${perWrite} bytes a write`, async () => {
      const sink = new TricklingSink(perWrite);
      await writeFrame(sink, MIXED_TEXT);
      assert.deepEqual(sink.received, encodeFrame(MIXED_TEXT));
    });
  }
});

Deno.test("writeFrame rejects a payload over maxFrameSize without writing", async () => {
  const sink = new TricklingSink(100);
  await assert.rejects(
    async () => await writeFrame(sink, "hello", { maxFrameSize: 4 }),
    isFrameTooLarge(5, 4),
  );
  assert.deepEqual(sink.offered, []);
});

Deno.test("writeFrame and FrameWriter.write reject, never throw, a payload over maxFrameSize", async () => {
  const sink = new TricklingSink(100);
  const written = writeFrame(sink, "hello", { maxFrameSize: 4 });
  await assert.rejects(written, isFrameTooLarge(5, 4));
  const writer = new FrameWriter(sink, { maxFrameSize: 4 });
  await assert.rejects(writer.write("hello"), isFrameTooLarge(5, 4));
  assert.deepEqual(sink.offered, []);
});

// ---------------------------------------------------------------------------
// FrameWriter
// ---------------------------------------------------------------------------

Deno.test("FrameWriter writes frames queued before a flush with one write call", async () => {
  const sink = new TricklingSink(Infinity);
  const writer = new FrameWriter(sink);
  writer.enqueue("one");
  writer.enqueue(new Uint8Array([1, 2]));
  writer.enqueue("");
  writer.enqueue(MIXED_TEXT);
  const expected = frames("one", new Uint8Array([1, 2]), "", MIXED_TEXT);
  assert.equal(writer.pendingBytes, expected.byteLength);
  assert.deepEqual(sink.offered, [], "enqueue must not write");
  await writer.flush();
  assert.deepEqual(sink.taken, [expected]);
  assert.equal(writer.pendingBytes, 0);
});

Deno.test("FrameWriter offers the whole batch to a sink that takes a few bytes at a time", async () => {
  const sink = new TricklingSink(3);
  const writer = new FrameWriter(sink);
  writer.enqueue("first");
  writer.enqueue("second");
  await writer.flush();
  const expected = frames("first", "second");
  assert.deepEqual(sink.received, expected);
  assert.equal(sink.offered[0], expected.byteLength);
});

Deno.test("FrameWriter batches frames queued while a write is in flight into one write call", async () => {
  const sink = new TricklingSink(Infinity);
  const writer = new FrameWriter(sink);
  const written = [writer.write("one"), writer.write("two"), writer.write("three")];
  await Promise.all(written);
  assert.deepEqual(sink.taken, [frames("one"), frames("two", "three")]);
});

Deno.test("FrameWriter keeps frame order across concurrent write calls", async () => {
  const sink = new TricklingSink(3);
  const writer = new FrameWriter(sink);
  const payloads = ["alpha", "", MIXED_TEXT, "x".repeat(5000), "omega", "é"];
  await Promise.all(payloads.map((payload) => writer.write(payload)));
  const reader = new FrameReader(new ScriptedSource([sink.received]));
  assert.deepEqual(await readAllText(reader), payloads);
});

Deno.test("FrameWriter copies enqueued bytes so the caller may reuse its array at once", async () => {
  const sink = new TricklingSink(Infinity);
  const writer = new FrameWriter(sink);
  const scratch = new Uint8Array([1, 2, 3]);
  writer.enqueue(scratch);
  scratch.fill(0);
  await writer.flush();
  assert.deepEqual(sink.received, new Uint8Array([0, 0, 0, 3, 1, 2, 3]));
});

Deno.test("FrameWriter.enqueue throws FrameTooLargeError and queues nothing", () => {
  const writer = new FrameWriter(new TricklingSink(Infinity), { maxFrameSize: 4 });
  assert.throws(() => writer.enqueue("hello"), isFrameTooLarge(5, 4));
  assert.equal(writer.pendingBytes, 0);
});

Deno.test("FrameWriter.flush rejects with the sink's error when the sink fails", async (t) => {
  const failures: [string, (error: Error) => Promise<number>][] = [
    ["write throws", (error) => {
      throw error;
    }],
    ["write rejects", (error) => Promise.reject(error)],
  ];
  for (const [name, fail] of failures) {
    await t.step(name, async () => {
      const sinkError = new Error("connection reset");
      const writer = new FrameWriter({ write: () => fail(sinkError) });
      writer.enqueue("lost");
      await assert.rejects(writer.flush(), (error: unknown) => error === sinkError);
      assert.equal(writer.pendingBytes, 0, "queued frames are dropped");
    });
  }
});

Deno.test("FrameWriter writes again after a failed flush", async () => {
  const sink = new TricklingSink(Infinity);
  let failNext = true;
  const writer = new FrameWriter({
    write(p: Uint8Array): Promise<number> {
      if (failNext) {
        failNext = false;
        return Promise.reject(new Error("transient"));
      }
      return sink.write(p);
    },
  });
  await assert.rejects(writer.write("lost"), /transient/);
  await writer.write("kept");
  assert.deepEqual(sink.received, frames("kept"));
});

Deno.test("FrameWriter still writes frames after a flush that found nothing queued", async () => {
  const sink = new TricklingSink(Infinity);
  const writer = new FrameWriter(sink);
  await writer.flush();
  await writer.write("hi");
  assert.equal(writer.pendingBytes, 0, "write() resolved with its frame still queued");
  assert.deepEqual(sink.received, frames("hi"));
});

Deno.test("FrameWriter.enqueue with borrow writes a long byte payload from the caller's array", async () => {
  const sink = new TricklingSink(Infinity);
  const writer = new FrameWriter(sink);
  const long = new Uint8Array(BORROW_THRESHOLD).fill(1);
  writer.enqueue("before");
  writer.enqueue(long, true);
  writer.enqueue("after");
  assert.equal(writer.pendingBytes, 10 + 4 + BORROW_THRESHOLD + 9);
  long.fill(2); // borrowed, not copied: the change is what gets written
  await writer.flush();
  assertBytes(
    sink.received,
    frames("before", new Uint8Array(BORROW_THRESHOLD).fill(2), "after"),
    "bytes written",
  );
});

Deno.test("FrameWriter.enqueue with borrow still copies a byte payload shorter than BORROW_THRESHOLD", async () => {
  const sink = new TricklingSink(Infinity);
  const writer = new FrameWriter(sink);
  const short = new Uint8Array(BORROW_THRESHOLD - 1).fill(1);
  writer.enqueue(short, true);
  short.fill(2);
  await writer.flush();
  assertBytes(sink.received, frames(new Uint8Array(BORROW_THRESHOLD - 1).fill(1)), "bytes written");
});

Deno.test("FrameWriter keeps frame order when borrowed payloads are queued during a write", async () => {
  const sink = new TricklingSink(4096);
  const writer = new FrameWriter(sink);
  const longA = new Uint8Array(BORROW_THRESHOLD + 5).fill(0xa);
  const longB = new Uint8Array(BORROW_THRESHOLD).fill(0xb);
  const first = writer.write("first"); // in flight from here on
  writer.enqueue(longA, true);
  writer.enqueue("middle");
  writer.enqueue(longB, true);
  writer.enqueue(longB, true);
  const last = writer.write(MIXED_TEXT);
  await Promise.all([first, last]);
  assert.equal(writer.pendingBytes, 0);
  const reader = new FrameReader(new ScriptedSource([sink.received]), { bufferSize: 100 });
  const payloads = await readAll(reader);
  const expected = [
    encoder.encode("first"),
    longA,
    encoder.encode("middle"),
    longB,
    longB,
    encoder.encode(MIXED_TEXT),
  ];
  assert.equal(payloads.length, expected.length);
  for (const [i, payload] of payloads.entries()) assertBytes(payload, expected[i], `frame ${i}`);
});

Deno.test("FrameWriter.flush rejects with WriteZero once the sink takes no bytes, instead of retrying for ever", async (t) => {
  const long = new Uint8Array(BORROW_THRESHOLD);
  const cases: [string, StallingSink, (writer: FrameWriter) => void, number, number][] = [
    // name, sink, what is queued, bytes written of the stalled piece, its length
    ["a sink that takes nothing", new StallingSink(0), (writer) => writer.enqueue("hello"), 0, 9],
    [
      "a sink that takes 5 bytes, 2 a call, then nothing",
      new StallingSink(5, 2),
      (writer) => writer.enqueue("hello"),
      5,
      9,
    ],
    [
      "a sink that stalls inside a borrowed payload",
      new StallingSink(HEADER_SIZE + 10, 3),
      (writer) => writer.enqueue(long, true),
      10,
      BORROW_THRESHOLD,
    ],
  ];
  for (const [name, sink, enqueue, written, total] of cases) {
    await t.step(name, async () => {
      const writer = new FrameWriter(sink);
      enqueue(writer);
      await assert.rejects(writer.flush(), isWriteZero(written, total));
      assert.ok(sink.calls < StallingSink.MAX_CALLS, `${sink.calls} write calls`);
      assert.equal(writer.pendingBytes, 0, "queued frames are dropped");
    });
  }
});

Deno.test("FrameWriter.bytesWritten grows by what each sink write took, headers and partial writes included", async () => {
  const long = new Uint8Array(BORROW_THRESHOLD + 1).fill(7);
  const sink = new TricklingSink(1000);
  const writer = new FrameWriter(sink);
  // What bytesWritten said as each write call began: the sum of the calls before it.
  const seen: number[] = [];
  const write = sink.write.bind(sink);
  sink.write = (p: Uint8Array): Promise<number> => {
    seen.push(writer.bytesWritten);
    return write(p);
  };
  assert.equal(writer.bytesWritten, 0);
  writer.enqueue("first");
  writer.enqueue(long, true);
  await writer.flush();
  await writer.write(MIXED_TEXT);
  const expected = frames("first", long, MIXED_TEXT);
  assert.deepEqual(sink.received, expected);
  assert.equal(writer.bytesWritten, expected.byteLength);
  assert.equal(seen.length, sink.taken.length);
  let sum = 0;
  const sums = sink.taken.map((taken) => {
    const before = sum;
    sum += taken.byteLength;
    return before;
  });
  assert.deepEqual(seen, sums);
});

Deno.test("FrameWriter.bytesWritten counts the bytes a sink took before a flush failed", async () => {
  const writer = new FrameWriter(new StallingSink(5, 2));
  await assert.rejects(writer.write("hello"), Deno.errors.WriteZero);
  assert.equal(writer.bytesWritten, 5);
});

// ---------------------------------------------------------------------------
// FrameReader: delivery patterns
// ---------------------------------------------------------------------------

Deno.test("FrameWriter writes a u64 length that counts its header past 2^32 with its high word", async (t) => {
  for (
    const [lengthField, header] of [
      ["u64be", [0, 0, 0, 1, 0, 0, 0, 7]],
      ["u64le", [7, 0, 0, 0, 1, 0, 0, 0]],
    ] as const
  ) {
    await t.step(lengthField, async () => {
      // A payload of 2^32 - 1 bytes is not allocated: only its length is read before the first write.
      const payload = new Uint8Array(0);
      Object.defineProperty(payload, "byteLength", { value: 2 ** 32 - 1 });
      let first: number[] | undefined;
      const sink = {
        write(p: Uint8Array): Promise<number> {
          first = Array.from(p);
          return Promise.reject(new Error("stop after the header"));
        },
      };
      const writer = new FrameWriter(sink, { lengthField, lengthIncludesHeader: true });
      writer.enqueue(payload, true);
      await assert.rejects(writer.flush(), /stop after the header/);
      assert.deepEqual(first, header);
    });
  }
});

Deno.test("FrameReader reads a frame delivered one byte at a time", async () => {
  const source = new ScriptedSource(chunksOf(frames("hello", MIXED_TEXT), 1));
  const reader = new FrameReader(source);
  assert.deepEqual(await readAllText(reader), ["hello", MIXED_TEXT]);
});

Deno.test("FrameReader reads a header split across reads", async (t) => {
  const splits = [[2], [1], [3], [1, 2], [1, 2, 3]];
  for (const offsets of splits) {
    await t.step(`cut at ${offsets.join(", ")}`, async () => {
      const reader = new FrameReader(new ScriptedSource(splitAt(frames("abc"), ...offsets)));
      assert.equal(text(await reader.read()), "abc");
      assert.equal(await reader.read(), null);
    });
  }
});

Deno.test("FrameReader reads several frames that arrive in one read", async () => {
  const source = new ScriptedSource([frames("one", "two", "three")]);
  const reader = new FrameReader(source);
  assert.deepEqual(await readAllText(reader), ["one", "two", "three"]);
  assert.equal(source.reads, 2, "one read for the frames, one for the end of stream");
});

Deno.test("FrameReader keeps the next frame's bytes that arrive with the end of a frame", async () => {
  const stream = frames("first", "second", "third");
  // Each read ends a frame and starts the next: in its header, then in its payload.
  const source = new ScriptedSource(splitAt(stream, 9 + 2, 9 + 10 + 3));
  const reader = new FrameReader(source);
  assert.deepEqual(await readAllText(reader), ["first", "second", "third"]);
});

Deno.test("FrameReader reads a frame several times longer than its buffer", async () => {
  const long = new Uint8Array(100).map((_, i) => i);
  const source = new ScriptedSource([frames(long)]);
  const reader = new FrameReader(source, { bufferSize: 8 });
  assert.deepEqual(await reader.read(), long);
  assert.equal(await reader.read(), null);
});

Deno.test("FrameReader keeps the next frame's bytes that arrive with the end of a long frame", async () => {
  const long = new Uint8Array(30).map((_, i) => 100 + i);
  const stream = frames(long, "next", "last");
  // One read holds the end of the long frame and the start of the next.
  const source = new ScriptedSource(splitAt(stream, 30, 36));
  const reader = new FrameReader(source, { bufferSize: 8 });
  assert.deepEqual(await reader.read(), long);
  assert.equal(text(await reader.read()), "next");
  assert.equal(text(await reader.read()), "last");
  assert.equal(await reader.read(), null);
});

Deno.test("FrameReader works with every buffer size from 1 to 5", async (t) => {
  const payloads = ["", "a", "hello, framed world", MIXED_TEXT, "", "xyz", "bcde"];
  const stream = frames(...payloads);
  for (const bufferSize of [1, 2, 3, 4, 5]) {
    for (const chunkSize of [1, 3, 7, stream.byteLength]) {
      await t.step(`bufferSize ${bufferSize}, chunks of ${chunkSize}`, async () => {
        const reader = new FrameReader(new ScriptedSource(chunksOf(stream, chunkSize)), {
          bufferSize,
        });
        assert.deepEqual(await readAllText(reader), payloads);
      });
    }
  }
});

Deno.test("FrameReader never asks the source for more than bufferSize bytes", async (t) => {
  const stream = frames("", "a", "x".repeat(40), MIXED_TEXT, "y".repeat(1500), "z");
  for (const bufferSize of [1, 2, 3, 4, 5, 7, 16, 1024]) {
    await t.step(`bufferSize ${bufferSize}`, async () => {
      // The whole stream is ready at once: only the reader's requests bound each read.
      const source = new ScriptedSource([stream]);
      const reader = new FrameReader(source, { bufferSize });
      assert.equal((await readAll(reader)).length, 6);
      for (const length of source.requested) {
        assert.ok(
          length >= 1 && length <= bufferSize,
          `asked for ${length} bytes; requests: ${source.requested}`,
        );
      }
    });
  }
});

Deno.test("FrameReader waits for the next frame with at most 1 KiB after a read that brought less, whatever bufferSize", async () => {
  const source = new ScriptedSource([frames("a".repeat(10)), frames("b".repeat(10))]);
  const reader = new FrameReader(source, { bufferSize: 65536 });
  assert.deepEqual((await readAll(reader)).map(text), ["a".repeat(10), "b".repeat(10)]);
  assert.deepEqual(source.requested, [1024, 1024, 1024]);
});

Deno.test("FrameReader reads a burst through its whole buffer once a read fills the quiet one", async () => {
  const payloads = Array.from({ length: 400 }, (_, i) => `${i}`.padEnd(100, "."));
  const source = new ScriptedSource([frames(...payloads)]);
  const reader = new FrameReader(source, { bufferSize: 65536 });
  assert.deepEqual((await readAll(reader)).map(text), payloads);
  assert.equal(source.requested[0], 1024);
  assert.ok(source.requested.some((length) => length > 1024), `requests: ${source.requested}`);
  assert.ok(source.requested.every((length) => length <= 65536), `requests: ${source.requested}`);
});

Deno.test("FrameReader gives a frame that outgrows the quiet buffer room for itself in powers of two, not a whole bufferSize", async () => {
  const payload = "m".repeat(1500); // a 1,504-byte frame: 2 KiB of room
  const source = new ScriptedSource([frames(payload), frames(payload)]);
  const reader = new FrameReader(source, { bufferSize: 65536 });
  assert.deepEqual((await readAll(reader)).map(text), [payload, payload]);
  // Each frame: the quiet 1 KiB read, then the rest into 2 KiB of room; the end, read quietly.
  assert.deepEqual(source.requested, [1024, 1024, 1024, 1024, 1024]);
});

Deno.test("FrameReader keeps the room it made for a frame while the frame arrives in segment-sized reads", async () => {
  const payload = "s".repeat(2996); // a 3,000-byte frame: 4 KiB of room
  const source = new ScriptedSource(chunksOf(frames(payload, payload), 1448));
  const reader = new FrameReader(source, { bufferSize: 65536 });
  assert.deepEqual((await readAll(reader)).map(text), [payload, payload]);
  assert.ok(source.requested.every((length) => length <= 4096), `requests: ${source.requested}`);
});

Deno.test("FrameReader.detachBuffers after a long frame leaves the reader waiting with 1 KiB once quiet", async () => {
  const long = "l".repeat(3000);
  // Its last reads are quiet ones (under 1 KiB), into the 4 KiB of room made for it.
  const source = new ScriptedSource([
    ...splitAt(frames(long), 1024, 2024),
    frames("a"),
    frames("b"),
  ]);
  const reader = new FrameReader(source, { bufferSize: 65536 });
  assert.equal(text(await reader.readView()), long);
  reader.detachBuffers();
  assert.equal(text(await reader.readView()), "a");
  reader.detachBuffers();
  assert.equal(text(await reader.readView()), "b");
  reader.detachBuffers();
  assert.equal(await reader.readView(), null);
  // Every wait after it asks for the 1 KiB buffer's worth, not the frame's room.
  assert.deepEqual(source.requested.slice(-3), [1024, 1024, 1024]);
});

Deno.test("FrameReader reads a frame longer than 1 KiB that starts in a quiet read, split anywhere", async (t) => {
  const payload = "q".repeat(3000);
  const stream = frames("first", payload, "last");
  for (const cut of [9, 13, 500, 1024, 1030, 2000, 3009, 3017]) {
    await t.step(`cut at ${cut}`, async () => {
      const reader = new FrameReader(new ScriptedSource(splitAt(stream, cut)), {
        bufferSize: 4096,
      });
      assert.deepEqual((await readAll(reader)).map(text), ["first", payload, "last"]);
    });
  }
});

Deno.test("FrameReader reads empty payloads between non-empty ones", async () => {
  const source = new ScriptedSource(chunksOf(frames("", "a", "", "", "b", ""), 3));
  const reader = new FrameReader(source, { bufferSize: 4 });
  const payloads = await readAll(reader);
  assert.deepEqual(payloads, [
    new Uint8Array(0),
    new Uint8Array([0x61]),
    new Uint8Array(0),
    new Uint8Array(0),
    new Uint8Array([0x62]),
    new Uint8Array(0),
  ]);
});

Deno.test("FrameReader keeps multi-byte UTF-8 intact wherever a read splits the frame", async (t) => {
  const frame = encodeFrame(MIXED_TEXT);
  for (let offset = 1; offset < frame.byteLength; offset++) {
    await t.step(`split at byte ${offset}`, async () => {
      const reader = new FrameReader(new ScriptedSource(splitAt(frame, offset)));
      const payload = await reader.read();
      assert.ok(payload !== null);
      assert.ok(isUtf8(payload));
      assert.equal(text(payload), MIXED_TEXT);
      assert.equal(await reader.read(), null);
    });
  }
});

// ---------------------------------------------------------------------------
// FrameReader: end of stream and limits
// ---------------------------------------------------------------------------

Deno.test("FrameReader.read resolves null when the stream ends at a frame boundary", async () => {
  const reader = new FrameReader(new ScriptedSource([frames("only")]));
  assert.equal(text(await reader.read()), "only");
  assert.equal(await reader.read(), null);
});

Deno.test("FrameReader.read resolves null for an empty stream", async () => {
  const reader = new FrameReader(new ScriptedSource([]));
  assert.equal(await reader.read(), null);
});

Deno.test("FrameReader.read keeps resolving null after the end of the stream", async () => {
  const reader = new FrameReader(new ScriptedSource([frames("a")]));
  assert.equal(text(await reader.read()), "a");
  assert.equal(await reader.read(), null);
  assert.equal(await reader.read(), null);
});

Deno.test("FrameReader throws IncompleteFrameError when the stream ends inside a header", async (t) => {
  for (const received of [1, 2, 3]) {
    await t.step(`${received} header bytes, first frame`, async () => {
      const header = encodeFrame("abc").subarray(0, received);
      const reader = new FrameReader(new ScriptedSource([header]));
      await assert.rejects(reader.read(), isIncompleteFrame("header", 4, received));
    });
    await t.step(`${received} header bytes, after a frame`, async () => {
      const stream = concat(frames("ok"), encodeFrame("abc").subarray(0, received));
      const reader = new FrameReader(new ScriptedSource([stream]));
      assert.equal(text(await reader.read()), "ok");
      await assert.rejects(reader.read(), isIncompleteFrame("header", 4, received));
    });
    await t.step(`${received} header bytes, bufferSize 2`, async () => {
      const header = encodeFrame("abc").subarray(0, received);
      const reader = new FrameReader(new ScriptedSource([header]), { bufferSize: 2 });
      await assert.rejects(reader.read(), isIncompleteFrame("header", 4, received));
    });
  }
});

Deno.test("FrameReader throws IncompleteFrameError when the stream ends inside a payload that fits in the buffer", async () => {
  // Declares 10 payload bytes, sends 4 of them over two reads.
  const stream = encodeFrame("0123456789").subarray(0, 4 + 4);
  const reader = new FrameReader(new ScriptedSource(splitAt(stream, 6)), { bufferSize: 16 });
  await assert.rejects(reader.read(), isIncompleteFrame("payload", 10, 4));
});

Deno.test("FrameReader throws IncompleteFrameError when the stream ends inside a payload longer than the buffer", async () => {
  // Declares 20 payload bytes, sends 9 of them, through a 4-byte buffer.
  const stream = encodeFrame(new Uint8Array(20)).subarray(0, 4 + 9);
  const reader = new FrameReader(new ScriptedSource(chunksOf(stream, 3)), { bufferSize: 4 });
  await assert.rejects(reader.read(), isIncompleteFrame("payload", 20, 9));
});

Deno.test("FrameReader throws IncompleteFrameError when the stream ends right after a header", async () => {
  const reader = new FrameReader(new ScriptedSource([new Uint8Array([0, 0, 0, 5])]));
  await assert.rejects(reader.read(), isIncompleteFrame("payload", 5, 0));
});

Deno.test("FrameReader throws FrameTooLargeError for a frame declaring more than maxFrameSize", async () => {
  const reader = new FrameReader(new ScriptedSource([frames("12345678901")]), {
    maxFrameSize: 10,
  });
  await assert.rejects(reader.read(), isFrameTooLarge(11, 10));
});

Deno.test("FrameReader accepts a frame of exactly maxFrameSize bytes", async () => {
  const reader = new FrameReader(new ScriptedSource([frames("1234567890")]), {
    maxFrameSize: 10,
  });
  assert.equal(text(await reader.read()), "1234567890");
});

Deno.test("FrameReader refuses a huge declared length without reading the payload", async () => {
  const source = new ScriptedSource([
    new Uint8Array([0xff, 0xff, 0xff, 0xff]),
    new Uint8Array(64),
  ]);
  const reader = new FrameReader(source);
  await assert.rejects(reader.read(), isFrameTooLarge(0xffff_ffff, DEFAULT_MAX_FRAME_SIZE));
  assert.equal(source.reads, 1, "no read after the header");
});

Deno.test("FrameReader decodes the declared length as an unsigned big-endian integer", async (t) => {
  const headers: [number[], number][] = [
    [[0x80, 0, 0, 0], 0x8000_0000],
    [[0xff, 0xff, 0xff, 0xff], 0xffff_ffff],
    [[0x01, 0x02, 0x03, 0x04], 0x0102_0304],
    [[0, 0, 0x01, 0x00], 0x100],
  ];
  for (const [header, length] of headers) {
    // Header read on its own, and header already sitting in the buffer behind a frame.
    for (const leading of [new Uint8Array(0), frames("a")]) {
      await t.step(`${header} after ${leading.byteLength} bytes`, async () => {
        const stream = concat(leading, new Uint8Array(header));
        const reader = new FrameReader(new ScriptedSource([stream]), { maxFrameSize: 0xff });
        if (leading.byteLength > 0) assert.equal(text(await reader.read()), "a");
        await assert.rejects(reader.read(), isFrameTooLarge(length, 0xff));
      });
    }
  }
});

// ---------------------------------------------------------------------------
// FrameReader: after an error
// ---------------------------------------------------------------------------

/** The first thing `action` throws or rejects with; fails when it does neither. */
async function errorOf(action: () => unknown): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  assert.fail("expected an error");
}

/** A way to bring a reader to its first error. */
interface FailureCase {
  name: string;
  chunks: Uint8Array[];
  /** What the source rejects with once the chunks run out, instead of `null`. */
  end?: Error;
  options?: FrameReaderOptions;
  /** Reads until the first error, which it returns after checking it. */
  fail(reader: FrameReader): Promise<unknown>;
}

/** A header declaring 17 bytes, one over a limit of 16, then what would parse as an empty frame. */
const REFUSED_THEN_EMPTY = [new Uint8Array([0, 0, 0, 0x11]), new Uint8Array([0, 0, 0, 0])];
const RESET = new Deno.errors.ConnectionReset("reset by peer");

const FAILURE_CASES: FailureCase[] = [
  {
    name: "FrameTooLargeError from read",
    chunks: REFUSED_THEN_EMPTY,
    options: { maxFrameSize: 16 },
    async fail(reader): Promise<unknown> {
      const error = await errorOf(() => reader.read());
      assert.ok(isFrameTooLarge(17, 16)(error));
      return error;
    },
  },
  {
    name: "FrameTooLargeError from read, the refused header and an empty frame in one read",
    chunks: [concat(...REFUSED_THEN_EMPTY)],
    options: { maxFrameSize: 16 },
    async fail(reader): Promise<unknown> {
      const error = await errorOf(() => reader.read());
      assert.ok(isFrameTooLarge(17, 16)(error));
      return error;
    },
  },
  {
    name: "FrameTooLargeError from readView, with a buffer smaller than a header",
    chunks: REFUSED_THEN_EMPTY,
    options: { maxFrameSize: 16, bufferSize: 2 },
    async fail(reader): Promise<unknown> {
      const error = await errorOf(() => reader.readView());
      assert.ok(isFrameTooLarge(17, 16)(error));
      return error;
    },
  },
  {
    name: "FrameTooLargeError from readBuffered",
    chunks: [concat(frames("ok"), ...REFUSED_THEN_EMPTY)],
    options: { maxFrameSize: 16 },
    async fail(reader): Promise<unknown> {
      assert.equal(text(await reader.read()), "ok");
      const error = await errorOf(() => reader.readBuffered());
      assert.ok(isFrameTooLarge(17, 16)(error));
      return error;
    },
  },
  {
    name: "FrameTooLargeError from readEachBuffered",
    chunks: [concat(frames("ok"), frames("two"), ...REFUSED_THEN_EMPTY)],
    options: { maxFrameSize: 16 },
    async fail(reader): Promise<unknown> {
      assert.equal(text(await reader.readView()), "ok");
      const visited: string[] = [];
      const error = await errorOf(() =>
        reader.readEachBuffered((buffer, start, end) => {
          visited.push(decoder.decode(buffer.subarray(start, end)));
        })
      );
      assert.ok(isFrameTooLarge(17, 16)(error));
      assert.deepEqual(visited, ["two"]);
      return error;
    },
  },
  {
    name: "IncompleteFrameError inside a header",
    chunks: [frames("one"), new Uint8Array([0, 0])],
    async fail(reader): Promise<unknown> {
      assert.equal(text(await reader.read()), "one");
      const error = await errorOf(() => reader.read());
      assert.ok(isIncompleteFrame("header", 4, 2)(error));
      return error;
    },
  },
  {
    name: "IncompleteFrameError inside a payload longer than the buffer",
    chunks: chunksOf(frames("0123456789").subarray(0, 4 + 5), 3),
    options: { bufferSize: 4 },
    async fail(reader): Promise<unknown> {
      const error = await errorOf(() => reader.read());
      assert.ok(isIncompleteFrame("payload", 10, 5)(error));
      return error;
    },
  },
  {
    name: "the source's error",
    chunks: [frames("one").subarray(0, 3)],
    end: RESET,
    async fail(reader): Promise<unknown> {
      const error = await errorOf(() => reader.readView());
      assert.equal(error, RESET);
      return error;
    },
  },
];

/** Each read method, asserting that it throws exactly `failure`, the way the method reports errors. */
const READ_METHODS: [string, (reader: FrameReader, failure: unknown) => Promise<void> | void][] = [
  ["read", async (reader, failure) => {
    await assert.rejects(reader.read(), (error) => error === failure);
  }],
  ["readView", async (reader, failure) => {
    // A rejected promise, not a synchronous throw.
    const read = reader.readView();
    await assert.rejects(read, (error) => error === failure);
  }],
  ["readBuffered", (reader, failure) => {
    assert.throws(() => reader.readBuffered(), (error) => error === failure);
  }],
  ["readEachBuffered", (reader, failure) => {
    let visits = 0;
    assert.throws(() => reader.readEachBuffered(() => visits++), (error) => error === failure);
    assert.equal(visits, 0);
  }],
  ["for await", async (reader, failure) => {
    await assert.rejects(Array.fromAsync(reader), (error) => error === failure);
  }],
];

Deno.test("FrameReader.read after a refused length rethrows the error instead of reading the refused payload as frames", async () => {
  const source = new ScriptedSource(REFUSED_THEN_EMPTY);
  const reader = new FrameReader(source, { maxFrameSize: 16 });
  const failure = await errorOf(() => reader.read());
  assert.ok(isFrameTooLarge(17, 16)(failure));
  await assert.rejects(reader.read(), (error) => error === failure);
  await assert.rejects(reader.read(), (error) => error === failure);
  assert.equal(source.reads, 1, "no read after the refused header");
});

Deno.test("FrameReader rethrows its first error from every read method, without calling the source again", async (t) => {
  for (const failureCase of FAILURE_CASES) {
    await t.step(failureCase.name, async (t) => {
      for (const [method, assertRethrows] of READ_METHODS) {
        await t.step(`then ${method}`, async () => {
          const source = new ScriptedSource(failureCase.chunks, failureCase.end);
          const reader = new FrameReader(source, failureCase.options);
          const failure = await failureCase.fail(reader);
          const reads = source.reads;
          await assertRethrows(reader, failure);
          await assertRethrows(reader, failure);
          assert.equal(source.reads, reads, "source reads after the failure");
        });
      }
    });
  }
});

Deno.test("FrameReader.hasBufferedFrame is false once the reader has failed", async (t) => {
  for (const failureCase of FAILURE_CASES) {
    await t.step(failureCase.name, async () => {
      const source = new ScriptedSource(failureCase.chunks, failureCase.end);
      const reader = new FrameReader(source, failureCase.options);
      await failureCase.fail(reader);
      assert.equal(reader.hasBufferedFrame, false);
    });
  }
});

// ---------------------------------------------------------------------------
// FrameReader: ownership, views, buffered state, iteration, options
// ---------------------------------------------------------------------------

Deno.test("FrameReader.read returns payloads that later reads do not overwrite", async () => {
  // Each frame fills the 8-byte buffer exactly, so every read reuses it.
  const source = new ScriptedSource([frames("aaaa"), frames("bbbb"), frames("cccc")]);
  const reader = new FrameReader(source, { bufferSize: 8 });
  const first = await reader.read();
  const second = await reader.read();
  const third = await reader.read();
  assert.equal(text(first), "aaaa");
  assert.equal(text(second), "bbbb");
  assert.equal(text(third), "cccc");
});

Deno.test("FrameReader.readView returns exactly each payload, in order, then null", async () => {
  const long = "L".repeat(50);
  const stream = frames("short", "", long, "tail");
  const reader = new FrameReader(new ScriptedSource(chunksOf(stream, 5)), { bufferSize: 16 });
  const seen: string[] = [];
  while (true) {
    const view = await reader.readView();
    if (view === null) break;
    seen.push(decoder.decode(view)); // copied out at once: the view is valid until the next call
  }
  assert.deepEqual(seen, ["short", "", long, "tail"]);
});

Deno.test("FrameReader.readView returns a view into the receive buffer for a frame that fits in it", async () => {
  const reader = new FrameReader(new ScriptedSource([frames("one", "two")]), { bufferSize: 64 });
  const view = await reader.readView();
  assert.ok(view !== null);
  assert.equal(view.byteLength, 3, "the view ends where the payload ends");
  assert.equal(view.buffer.byteLength, 64, "the view shares the 64-byte receive buffer");
  assert.equal(decoder.decode(view), "one");
});

Deno.test("FrameReader.read returns an array of exactly the payload, not a view of the buffer", async () => {
  const reader = new FrameReader(new ScriptedSource([frames("one", "two")]), { bufferSize: 64 });
  const payload = await reader.read();
  assert.ok(payload !== null);
  assert.equal(payload.byteOffset, 0);
  assert.equal(payload.buffer.byteLength, 3);
});

Deno.test("FrameReader reports nothing buffered before the first read", () => {
  const reader = new FrameReader(new ScriptedSource([frames("a")]));
  assert.equal(reader.bufferedBytes, 0);
  assert.equal(reader.hasBufferedFrame, false);
});

Deno.test("FrameReader.hasBufferedFrame tells whether the next frame is wholly buffered", async (t) => {
  const cases: [string, Uint8Array, boolean][] = [
    ["a whole frame", frames("two"), true],
    ["a whole empty frame", frames(""), true],
    ["two whole frames", frames("two", "three"), true],
    ["nothing", new Uint8Array(0), false],
    ["part of a header", frames("two").subarray(0, 3), false],
    ["a header and part of its payload", frames("two").subarray(0, 6), false],
    ["a header alone", frames("two").subarray(0, 4), false],
  ];
  for (const [name, tail, expected] of cases) {
    await t.step(name, async () => {
      const reader = new FrameReader(new ScriptedSource([concat(frames("one"), tail)]));
      assert.equal(text(await reader.read()), "one");
      assert.equal(reader.bufferedBytes, tail.byteLength);
      assert.equal(reader.hasBufferedFrame, expected);
    });
  }
});

Deno.test("FrameReader.read makes no source call while hasBufferedFrame is true", async () => {
  const source = new ScriptedSource([frames("one", "two", "three")]);
  const reader = new FrameReader(source);
  assert.equal(text(await reader.read()), "one");
  assert.equal(source.reads, 1);
  assert.equal(reader.hasBufferedFrame, true);
  assert.equal(text(await reader.read()), "two");
  assert.equal(text(await reader.read()), "three");
  assert.equal(source.reads, 1);
  assert.equal(reader.hasBufferedFrame, false);
  assert.equal(reader.bufferedBytes, 0);
});

Deno.test("FrameReader.readBuffered returns a wholly buffered frame without reading the source", async () => {
  const source = new ScriptedSource([frames("one", "two", "")]);
  const reader = new FrameReader(source);
  assert.equal(text(await reader.read()), "one");
  const view = reader.readBuffered();
  assert.ok(view !== undefined);
  assert.equal(decoder.decode(view), "two");
  assert.deepEqual(reader.readBuffered(), new Uint8Array(0));
  assert.equal(reader.readBuffered(), undefined);
  assert.equal(source.reads, 1);
});

Deno.test("FrameReader.readBuffered consumes nothing when the next frame is not wholly buffered", async (t) => {
  const cases: [string, Uint8Array][] = [
    ["nothing", new Uint8Array(0)],
    ["part of a header", frames("two").subarray(0, 2)],
    ["a header and part of its payload", frames("two").subarray(0, 5)],
  ];
  for (const [name, tail] of cases) {
    await t.step(name, async () => {
      const source = new ScriptedSource([
        concat(frames("one"), tail),
        frames("two").subarray(tail.byteLength),
      ]);
      const reader = new FrameReader(source);
      assert.equal(text(await reader.read()), "one");
      assert.equal(reader.readBuffered(), undefined);
      assert.equal(reader.bufferedBytes, tail.byteLength);
      assert.equal(text(await reader.read()), "two");
    });
  }
});

Deno.test("FrameReader.readBuffered throws FrameTooLargeError for a buffered header declaring too much", async () => {
  const stream = concat(frames("ok"), new Uint8Array([0, 0, 1, 0]));
  const reader = new FrameReader(new ScriptedSource([stream]), { maxFrameSize: 255 });
  assert.equal(text(await reader.read()), "ok");
  assert.throws(() => reader.readBuffered(), isFrameTooLarge(256, 255));
});

Deno.test("FrameReader.isMidFrame is true while a frame has partly arrived", async () => {
  // Header in two reads, then the payload's last bytes in a third.
  const source = new ScriptedSource(splitAt(frames("abc"), 2, 5));
  const reader = new FrameReader(source, { bufferSize: 16 });
  const seen: boolean[] = [];
  source.onRead = () => seen.push(reader.isMidFrame);
  assert.equal(text(await reader.read()), "abc");
  assert.deepEqual(seen, [false, true, true]);
  assert.equal(reader.isMidFrame, false);
});

Deno.test("FrameReader.isMidFrame is true while a frame longer than the buffer has partly arrived", async () => {
  const source = new ScriptedSource([frames("0123456789")]);
  const reader = new FrameReader(source, { bufferSize: 4 });
  const seen: boolean[] = [];
  source.onRead = () => seen.push(reader.isMidFrame);
  assert.equal(text(await reader.read()), "0123456789");
  assert.deepEqual(seen, [false, true, true, true]);
  assert.equal(reader.isMidFrame, false);
});

Deno.test("FrameReader.isMidFrame tells whether bytes of the next frame are buffered", async (t) => {
  const cases: [string, Uint8Array, boolean][] = [
    ["nothing", new Uint8Array(0), false],
    ["part of a header", frames("two").subarray(0, 1), true],
    ["a header and part of its payload", frames("two").subarray(0, 5), true],
  ];
  for (const [name, tail, expected] of cases) {
    await t.step(name, async () => {
      const reader = new FrameReader(new ScriptedSource([concat(frames("one"), tail)]));
      assert.equal(reader.isMidFrame, false);
      assert.equal(text(await reader.read()), "one");
      assert.equal(reader.isMidFrame, expected);
    });
  }
});

Deno.test("FrameReader.readView reads consecutive frames longer than the buffer into one reused array", async () => {
  const first = new Uint8Array(40).fill(1);
  const second = new Uint8Array(30).fill(2);
  const reader = new FrameReader(new ScriptedSource([frames(first, second)]), { bufferSize: 8 });
  const firstView = await reader.readView();
  assert.ok(firstView !== null);
  assert.deepEqual(firstView, first);
  const secondView = await reader.readView();
  assert.ok(secondView !== null);
  assert.deepEqual(secondView, second);
  assert.equal(secondView.buffer, firstView.buffer);
});

Deno.test("FrameReader.read returns a long frame that later readView calls do not overwrite", async () => {
  const first = new Uint8Array(40).fill(1);
  const second = new Uint8Array(40).fill(2);
  const third = new Uint8Array(40).fill(3);
  const source = new ScriptedSource([frames(first, second, third)]);
  const reader = new FrameReader(source, { bufferSize: 8 });
  assert.deepEqual(await reader.readView(), first);
  const owned = await reader.read();
  assert.deepEqual(await reader.readView(), third);
  assert.deepEqual(owned, second);
});

Deno.test("FrameReader yields every payload to for await, then stops", async () => {
  const source = new ScriptedSource(chunksOf(frames("a", "", MIXED_TEXT, "z"), 2));
  const seen: string[] = [];
  for await (const payload of new FrameReader(source, { bufferSize: 3 })) {
    seen.push(decoder.decode(payload));
  }
  assert.deepEqual(seen, ["a", "", MIXED_TEXT, "z"]);
});

Deno.test("FrameReader has documented defaults for its options", () => {
  const reader = new FrameReader(new ScriptedSource([]));
  assert.equal(reader.bufferSize, DEFAULT_BUFFER_SIZE);
  assert.equal(reader.maxFrameSize, DEFAULT_MAX_FRAME_SIZE);
  const custom = new FrameReader(new ScriptedSource([]), { bufferSize: 1, maxFrameSize: 0 });
  assert.equal(custom.bufferSize, 1);
  assert.equal(custom.maxFrameSize, 0);
});

Deno.test("Bad options throw a RangeError naming the option and the value", async (t) => {
  const source = new ScriptedSource([]);
  const sink = new TricklingSink(1);
  const cases: [string, string, number, () => unknown][] = [];
  for (const value of [0, -1, 1.5, NaN]) {
    cases.push([
      "FrameReader",
      "bufferSize",
      value,
      () => new FrameReader(source, { bufferSize: value }),
    ]);
  }
  for (const value of [-1, 2 ** 32, 0.5, NaN]) {
    cases.push([
      "FrameReader",
      "maxFrameSize",
      value,
      () => new FrameReader(source, { maxFrameSize: value }),
    ]);
    cases.push([
      "FrameWriter",
      "maxFrameSize",
      value,
      () => new FrameWriter(sink, { maxFrameSize: value }),
    ]);
    cases.push([
      "encodeFrame",
      "maxFrameSize",
      value,
      () => encodeFrame("", { maxFrameSize: value }),
    ]);
  }
  for (const [subject, option, value, construct] of cases) {
    await t.step(`${subject} ${option} ${value}`, () => {
      assert.throws(construct, isRangeErrorNaming(option, value));
    });
  }
});

// ---------------------------------------------------------------------------
// _utf8.ts
// ---------------------------------------------------------------------------

Deno.test("utf8ByteLength agrees with TextEncoder, lone surrogates included", async (t) => {
  const strings = [
    "",
    "plain ASCII",
    "\u0000\u007f",
    "\u0080\u07ff",
    "\u0800\uffff",
    "\u{10000}\u{10ffff}",
    "é",
    "中文字",
    "😀👍🏽",
    "e\u0301",
    MIXED_TEXT,
    "\ud800",
    "\udbff",
    "\udc00",
    "\udfff",
    "a\ud800b",
    "\ud83d",
    "x\ud83d",
    "\ude00x",
    "\ud800\ud800",
    "\udc00\ud800",
    "\ud83d\ude00\ud83d",
  ];
  for (const s of strings) {
    await t.step(JSON.stringify(s), () => {
      assert.equal(utf8ByteLength(s), encoder.encode(s).byteLength);
    });
  }
});

Deno.test("skipCodePoints(bytes, 10) finds where Python's s[10:] starts", async (t) => {
  // [s, s[10:] as Python computes it]
  const cases: [string, string][] = [
    ["abcdefghijklmnop", "klmnop"],
    ["éééééééééééé", "éé"],
    ["中文中文中文中文中文中", "中"],
    ["😀😀😀😀😀😀😀😀😀😀😀😀", "😀😀"],
    ["e\u0301e\u0301e\u0301e\u0301e\u0301e\u0301", "e\u0301"],
    ["aé中😀aé中😀aé中😀", "中😀"],
    ["short", ""],
    ["", ""],
    ["0123456789", ""],
    ["é中😀e\u0301é中😀e\u0301xy", "xy"],
  ];
  for (const [s, rest] of cases) {
    await t.step(JSON.stringify(s), () => {
      const bytes = encoder.encode(s);
      const offset = skipCodePoints(bytes, 10);
      assert.equal(offset, bytes.byteLength - encoder.encode(rest).byteLength);
      assert.equal(decoder.decode(bytes.subarray(offset)), rest);
    });
  }
});

Deno.test("isUtf8 rejects malformed UTF-8", async (t) => {
  const cases: [string, number[]][] = [
    ["0xFF", [0xff]],
    ["overlong C0 AF", [0xc0, 0xaf]],
    ["overlong E0 80 AF", [0xe0, 0x80, 0xaf]],
    ["surrogate ED A0 80", [0xed, 0xa0, 0x80]],
    ["above U+10FFFF", [0xf4, 0x90, 0x80, 0x80]],
    ["lone continuation byte", [0x80]],
    ["truncated 2-byte sequence", [0xc3]],
    ["truncated 3-byte sequence", [0xe4, 0xb8]],
    ["truncated 4-byte sequence", [0xf0, 0x9f, 0x98]],
    ["truncated sequence before ASCII", [0xe4, 0xb8, 0x41]],
  ];
  for (const [name, bytes] of cases) {
    await t.step(name, () => {
      assert.equal(isUtf8(new Uint8Array(bytes)), false);
    });
  }
});

Deno.test("isUtf8 accepts well-formed UTF-8", async (t) => {
  for (const s of ["", "ASCII", MIXED_TEXT, "\u{10ffff}\u0000", "\ufffd"]) {
    await t.step(JSON.stringify(s), () => {
      assert.equal(isUtf8(encoder.encode(s)), true);
    });
  }
});

Deno.test("offsetAfterCodePoints agrees with skipCodePoints on well-formed UTF-8", async (t) => {
  const strings = [
    "",
    "short",
    "0123456789",
    "plain ASCII longer than ten characters",
    "a".repeat(256),
    "a".repeat(257),
    "a".repeat(300) + "é",
    "é中😀e\u0301é中😀e\u0301xy",
    "😀".repeat(100),
  ];
  for (const s of strings) {
    await t.step(`${s.length} UTF-16 units: ${JSON.stringify(s.slice(0, 12))}`, () => {
      const bytes = encoder.encode(s);
      for (const count of [0, 1, 10, 1000]) {
        assert.equal(
          offsetAfterCodePoints(bytes, count),
          skipCodePoints(bytes, count),
          `count ${count}`,
        );
      }
    });
  }
});

Deno.test("offsetAfterCodePoints returns -1 for malformed UTF-8", async (t) => {
  const ascii = encoder.encode("a".repeat(300));
  const cases: [string, Uint8Array][] = [
    ["0xFF", new Uint8Array([0xff])],
    ["surrogate", new Uint8Array([0x61, 0xed, 0xa0, 0x80])],
    ["truncated", new Uint8Array([0x61, 0xe4, 0xb8])],
    ["lone continuation byte", new Uint8Array([0x61, 0x80])],
    ["0xFF after 300 ASCII bytes", concat(ascii, new Uint8Array([0xff]))],
    ["overlong after 300 ASCII bytes", concat(ascii, new Uint8Array([0xc0, 0xaf]))],
  ];
  for (const [name, bytes] of cases) {
    await t.step(name, () => {
      assert.equal(offsetAfterCodePoints(bytes, 10), -1);
    });
  }
});

Deno.test("FrameReader ends cleanly on UnexpectedEof between frames (TLS closed without close_notify)", async (t) => {
  for (const bufferSize of [2, 1024]) {
    await t.step(`bufferSize ${bufferSize}`, async () => {
      const unexpectedEof = new Deno.errors.UnexpectedEof("peer closed without close_notify");
      const source = new ScriptedSource([frames("one", "two")], unexpectedEof);
      assert.deepEqual(await readAllText(new FrameReader(source, { bufferSize })), ["one", "two"]);
    });
  }
});

Deno.test("FrameReader turns UnexpectedEof inside a frame into IncompleteFrameError", async (t) => {
  for (const bufferSize of [2, 1024]) {
    await t.step(`bufferSize ${bufferSize}`, async () => {
      const unexpectedEof = new Deno.errors.UnexpectedEof("peer closed without close_notify");
      const source = new ScriptedSource(
        [frames("whole"), frames("cut").subarray(0, 5)],
        unexpectedEof,
      );
      const reader = new FrameReader(source, { bufferSize });
      assert.equal(text(await reader.read()), "whole");
      await assert.rejects(reader.read(), isIncompleteFrame("payload", 3, 1));
    });
  }
});

Deno.test("FrameReader passes on read errors other than UnexpectedEof", async () => {
  const reset = new Deno.errors.ConnectionReset("reset by peer");
  const reader = new FrameReader(new ScriptedSource([frames("one")], reset));
  assert.equal(text(await reader.read()), "one");
  await assert.rejects(reader.read(), (error) => error === reset);
});
