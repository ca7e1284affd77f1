// Copyright 2026 the buffered-framing authors. MIT license.
// Seeded property tests of FrameReader: random frames, random cuts, random buffer sizes,
// in the default format and in every length-field format (each name, and every fixed
// width counting its header), with cuts inside headers and one-byte buffers.
//
// Every case derives from one 32-bit seed, printed in the message of any failure.
// `FRAMING_SEED=<seed> deno test --allow-env=FRAMING_SEED tests/framing_property_test.ts`
// runs that seed as the first case of every property. Without the permission, or
// without the variable, a fixed base seed is used.

import assert from "node:assert/strict";
import { encodeFrame, FrameReader, FrameWriter, IncompleteFrameError } from "../framing.ts";
import { assertSameBytes, ChunkedSource, concat, cutAt, mulberry32 } from "./_bytes.ts";
import { FIXED_WIDTHS, type Format, formatName, FORMATS, largestPayload } from "./_formats.ts";

/** Cases run per property. */
const CASES = 1000;
/** Cases run per property over every format: each format gets about 1/15 of them. */
const FORMAT_CASES = 600;
const DEFAULT_SEED = 0x5eed_f00d;

function baseSeed(): number {
  let value: string | undefined;
  try {
    const { state } = Deno.permissions.querySync({ name: "env", variable: "FRAMING_SEED" });
    if (state === "granted") value = Deno.env.get("FRAMING_SEED");
  } catch {
    // No access to the environment: use the fixed seed.
  }
  if (value === undefined || value === "") return DEFAULT_SEED;
  const seed = Number(value);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
    throw new RangeError(`FRAMING_SEED must be an integer from 0 to 2^32 - 1, got ${value}`);
  }
  return seed;
}

const BASE_SEED = baseSeed();

/** Seed of case `index`: case 0 runs the base seed itself. */
function caseSeed(index: number): number {
  return (BASE_SEED + Math.imul(index, 0x9e37_79b9)) >>> 0;
}

/** Seeded randomness (mulberry32) with the draws the cases need. */
class Random {
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  /** A float in [0, 1). */
  readonly next: () => number;

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
}

// ---------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------

const encoder = new TextEncoder();

/** A payload size in bytes, 0 to 64 KiB: mostly small, occasionally large. */
function payloadSize(random: Random): number {
  const roll = random.next();
  if (roll < 0.15) return 0;
  if (roll < 0.8) return random.int(1, 64);
  if (roll < 0.96) return random.int(65, 2048);
  if (roll < 0.99) return random.int(2049, 16 * 1024);
  return random.int(16 * 1024 + 1, 64 * 1024);
}

/** A random code point whose UTF-8 takes `width` bytes (no surrogates). */
function codePoint(random: Random, width: number): number {
  switch (width) {
    case 1:
      return random.int(0, 0x7f);
    case 2:
      return random.int(0x80, 0x7ff);
    case 3: {
      // 0x800–0xFFFF without the surrogates 0xD800–0xDFFF.
      const value = random.int(0x800, 0xffff - 0x800);
      return value < 0xd800 ? value : value + 0x800;
    }
    default:
      return random.int(0x1_0000, 0x10_ffff);
  }
}

/** Random text mixing 1-, 2-, 3- and 4-byte characters, exactly `byteLength` bytes of UTF-8. */
function randomText(random: Random, byteLength: number): string {
  const pieces: string[] = [];
  let codePoints: number[] = [];
  let remaining = byteLength;
  while (remaining > 0) {
    const roll = random.next();
    const width = Math.min(remaining, roll < 0.4 ? 1 : roll < 0.6 ? 2 : roll < 0.8 ? 3 : 4);
    codePoints.push(codePoint(random, width));
    remaining -= width;
    if (codePoints.length === 1024) {
      pieces.push(String.fromCodePoint(...codePoints));
      codePoints = [];
    }
  }
  pieces.push(String.fromCodePoint(...codePoints));
  return pieces.join("");
}

/** A receive buffer size from 1 to 70,000, biased to small values. */
function bufferSize(random: Random): number {
  const roll = random.next();
  if (roll < 0.3) return random.int(1, 8);
  if (roll < 0.6) return random.int(9, 256);
  if (roll < 0.9) return random.int(257, 4096);
  return random.int(4097, 70_000);
}

/** Cuts `stream` into random-sized chunks; the largest chunk size is itself random. */
function randomChunks(random: Random, stream: Uint8Array): Uint8Array[] {
  const roll = random.next();
  const maxChunk = roll < 0.1
    ? random.int(1, 8)
    : roll < 0.5
    ? random.int(9, 256)
    : roll < 0.85
    ? random.int(257, 8192)
    : random.int(8193, 200_000);
  const chunks: Uint8Array[] = [];
  let offset = 0;
  while (offset < stream.byteLength) {
    const size = random.int(1, maxChunk);
    chunks.push(stream.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}

// ---------------------------------------------------------------------------
// Length-field formats, described here independently of the library
// ---------------------------------------------------------------------------

/** The default format: the one the first properties run. */
const DEFAULT_FORMAT: Format = { lengthField: "u32be", lengthIncludesHeader: false };

/** Bytes of the header of a `length`-byte payload: fixed, or 7 bits a byte for a varint. */
function headerSize(format: Format, length: number): number {
  if (format.lengthField !== "varint") return FIXED_WIDTHS[format.lengthField];
  let size = 1;
  for (let rest = Math.floor(length / 128); rest > 0; rest = Math.floor(rest / 128)) size++;
  return size;
}

/** The longest header the format writes or reads. */
function maxHeaderSize(format: Format): number {
  return format.lengthField === "varint" ? 5 : FIXED_WIDTHS[format.lengthField];
}

// ---------------------------------------------------------------------------
// Streams of frames
// ---------------------------------------------------------------------------

interface StreamCase {
  seed: number;
  random: Random;
  format: Format;
  /** Each frame's payload as UTF-8, in order. */
  payloads: Uint8Array[];
  /** Each frame's header size in bytes, in order. */
  headerSizes: number[];
  /** Offset of each frame's header in `stream`, then `stream.byteLength`. */
  boundaries: number[];
  /** Every frame's bytes, back to back. */
  stream: Uint8Array;
  bufferSize: number;
}

/** The default-format case of `seed`, as the first properties have always drawn it. */
function streamCase(seed: number, minFrames = 0): StreamCase {
  const random = new Random(seed);
  const count = random.int(minFrames, 20);
  const payloads: Uint8Array[] = [];
  const frames: Uint8Array[] = [];
  const boundaries = [0];
  for (let i = 0; i < count; i++) {
    const size = payloadSize(random);
    const text = randomText(random, size);
    const payload = encoder.encode(text);
    assert.equal(payload.byteLength, size, `generator bug: seed ${seed}`);
    payloads.push(payload);
    frames.push(encodeFrame(text));
    boundaries.push(boundaries[i] + 4 + size);
  }
  return {
    seed,
    random,
    format: DEFAULT_FORMAT,
    payloads,
    headerSizes: payloads.map(() => 4),
    boundaries,
    stream: concat(...frames),
    bufferSize: bufferSize(random),
  };
}

/**
 * Payload sizes next to the varint's 1-, 2- and 3-byte boundaries
 * (127/128, 16383/16384), u8's (255/256) and u16's (65535/65536).
 */
const BOUNDARY_SIZES = [
  0,
  1,
  126,
  127,
  128,
  129,
  253,
  254,
  255,
  256,
  16_382,
  16_383,
  16_384,
  16_385,
  65_534,
  65_535,
  65_536,
];

/** Longest payload drawn when the receive buffer is tiny: each byte of it costs a read. */
const TINY_BUFFER_PAYLOAD = 512;

/** The format of case `seed`: drawn from the seed itself, so FRAMING_SEED reruns it. */
function formatOf(seed: number): Format {
  return FORMATS[seed % FORMATS.length];
}

/**
 * A case in the format of `seed`: random payloads, a quarter of them next to
 * a format boundary, none longer than the format can declare, sent as text or
 * as bytes; a receive buffer of 1 byte, or smaller than the header, in a
 * third of the cases.
 */
function formatStreamCase(seed: number, minFrames = 0): StreamCase {
  const random = new Random(seed);
  const format = formatOf(seed);
  const roll = random.next();
  const size = roll < 0.15
    ? 1
    : roll < 0.35
    ? random.int(1, maxHeaderSize(format) + 1)
    : bufferSize(random);
  const largest = Math.min(largestPayload(format), size < 16 ? TINY_BUFFER_PAYLOAD : Infinity);
  const count = random.int(minFrames, 12);
  const payloads: Uint8Array[] = [];
  const headerSizes: number[] = [];
  const frames: Uint8Array[] = [];
  const boundaries = [0];
  for (let i = 0; i < count; i++) {
    let length = random.next() < 0.25
      ? BOUNDARY_SIZES[random.int(0, BOUNDARY_SIZES.length - 1)]
      : payloadSize(random);
    if (length > largest) length = random.int(0, largest);
    const text = randomText(random, length);
    const payload = encoder.encode(text);
    const frame = encodeFrame(random.next() < 0.5 ? text : payload, format);
    const header = headerSize(format, length);
    assert.equal(payload.byteLength, length, `generator bug: seed ${seed}`);
    assert.equal(
      frame.byteLength,
      header + length,
      `seed ${seed}: ${formatName(format)} frame of a ${length}-byte payload`,
    );
    payloads.push(payload);
    headerSizes.push(header);
    frames.push(frame);
    boundaries.push(boundaries[i] + header + length);
  }
  return {
    seed,
    random,
    format,
    payloads,
    headerSizes,
    boundaries,
    stream: concat(...frames),
    bufferSize: size,
  };
}

/**
 * Where to cut the case's stream into reads: where {@linkcode randomChunks}
 * cuts it, plus inside headers: in a quarter of the frames between every two
 * bytes of the header, in another third at one random position in it.
 */
function formatCuts(c: StreamCase): number[] {
  const { random } = c;
  const cuts: number[] = [];
  let offset = 0;
  for (const chunk of randomChunks(random, c.stream)) cuts.push(offset += chunk.byteLength);
  for (const [i, size] of c.headerSizes.entries()) {
    if (size === 1) continue;
    const roll = random.next();
    if (roll < 0.25) {
      for (let k = 1; k < size; k++) cuts.push(c.boundaries[i] + k);
    } else if (roll < 0.6) {
      cuts.push(c.boundaries[i] + random.int(1, size - 1));
    }
  }
  return cuts;
}

// ---------------------------------------------------------------------------
// Fake source and checks
// ---------------------------------------------------------------------------

function describe(c: StreamCase): string {
  return `seed ${c.seed} (rerun with FRAMING_SEED=${c.seed}; ${formatName(c.format)}, ` +
    `${c.payloads.length} frames, ${c.stream.byteLength} bytes, bufferSize ${c.bufferSize})`;
}

/** The case of `seed`, its stream cut into random reads, and a reader over them. */
function readerCase(seed: number): ReaderCase {
  const c = streamCase(seed);
  const source = new ChunkedSource(randomChunks(c.random, c.stream));
  return { c, source, reader: new FrameReader(source, { bufferSize: c.bufferSize }) };
}

/** The case of `seed` in its format, cut into reads inside headers too, and a reader over them. */
function formatReaderCase(seed: number): ReaderCase {
  const c = formatStreamCase(seed);
  const source = new ChunkedSource(cutAt(c.stream, formatCuts(c)));
  return { c, source, reader: new FrameReader(source, { ...c.format, bufferSize: c.bufferSize }) };
}

/** Asserts that `copies` are the case's payloads, as many, byte-exact and in order. */
function assertSameFrames(copies: Uint8Array[], c: StreamCase): void {
  assert.equal(copies.length, c.payloads.length, `${describe(c)}: frame count`);
  for (const [i, expected] of c.payloads.entries()) {
    assertSameBytes(copies[i], expected, `${describe(c)}: frame ${i}`);
  }
}

function assertRequestsWithinBuffer(source: ChunkedSource, c: StreamCase): void {
  if (source.reads === 0) return;
  assert.ok(
    source.smallestRequest >= 1 && source.largestRequest <= c.bufferSize,
    `${describe(c)}: read asked for ${source.smallestRequest} to ${source.largestRequest} bytes`,
  );
}

/** Runs `check` on `cases` seeded cases; any failure names its seed. */
async function forEachSeed(
  check: (seed: number) => Promise<void>,
  cases = CASES,
): Promise<void> {
  for (let i = 0; i < cases; i++) {
    const seed = caseSeed(i);
    try {
      await check(seed);
    } catch (error) {
      if (error instanceof assert.AssertionError) throw error; // already names the seed
      throw new Error(`seed ${seed} (rerun with FRAMING_SEED=${seed}): ${error}`, {
        cause: error,
      });
    }
  }
}

// ---------------------------------------------------------------------------
// Properties, each run in the default format and in every length-field format
// ---------------------------------------------------------------------------

/** A case, its stream cut into reads, and a reader over them. */
interface ReaderCase {
  c: StreamCase;
  source: ChunkedSource;
  reader: FrameReader;
}

/** `read()` returns every frame byte-exact and in order, then null. */
async function checkRead({ c, source, reader }: ReaderCase): Promise<void> {
  for (const [i, expected] of c.payloads.entries()) {
    const payload = await reader.read();
    assert.ok(payload !== null, `${describe(c)}: null instead of frame ${i}`);
    assertSameBytes(payload, expected, `${describe(c)}: frame ${i}`);
  }
  assert.equal(await reader.read(), null, `${describe(c)}: after the last frame`);
  assertRequestsWithinBuffer(source, c);
}

/** A loop of `readBuffered()`, then `readView()` when nothing is buffered, returns every frame. */
async function checkReadBufferedLoop({ c, source, reader }: ReaderCase): Promise<void> {
  const copies: Uint8Array[] = [];
  while (true) {
    const payload = reader.readBuffered() ?? await reader.readView();
    if (payload === null) break;
    copies.push(payload.slice());
    assert.ok(copies.length <= c.payloads.length, `${describe(c)}: more frames than sent`);
  }
  assertSameFrames(copies, c);
  assertRequestsWithinBuffer(source, c);
}

/** `readView()` then `readEachBuffered()`, the server's loop, returns every frame. */
async function checkServerLoop({ c, source, reader }: ReaderCase): Promise<void> {
  const copies: Uint8Array[] = [];
  const keep = (buffer: Uint8Array, start: number, end: number): void => {
    copies.push(buffer.slice(start, end));
  };
  while (true) {
    const payload = await reader.readView();
    if (payload === null) break;
    keep(payload, 0, payload.byteLength);
    reader.readEachBuffered(keep);
    assert.equal(reader.hasBufferedFrame, false, `${describe(c)}: a whole frame left behind`);
    assert.ok(copies.length <= c.payloads.length, `${describe(c)}: more frames than sent`);
  }
  assertSameFrames(copies, c);
  assertRequestsWithinBuffer(source, c);
}

/** `hasBufferedFrame`, `bufferedBytes` and `isMidFrame` agree with what the source delivered. */
async function checkBufferState({ c, source, reader }: ReaderCase): Promise<void> {
  let consumed = 0;
  for (let i = 0; i <= c.payloads.length; i++) {
    const buffered = reader.hasBufferedFrame;
    const readsBefore = source.reads;
    const payload = await reader.read();
    assert.equal(
      source.reads === readsBefore,
      buffered,
      `${describe(c)}: read ${i} called the source ${source.reads - readsBefore} times ` +
        `though hasBufferedFrame was ${buffered}`,
    );
    if (payload !== null) consumed += c.headerSizes[i] + payload.byteLength;
    assert.equal(
      reader.bufferedBytes,
      source.delivered - consumed,
      `${describe(c)}: bufferedBytes after read ${i}`,
    );
    assert.equal(
      reader.isMidFrame,
      reader.bufferedBytes > 0,
      `${describe(c)}: isMidFrame after read ${i}`,
    );
  }
}

/**
 * Reads the frames of `c` that lie wholly before byte `cut` of its stream
 * (where `reader` reads it cut short), then asserts the end: null at a frame
 * boundary, else IncompleteFrameError naming the part the cut fell in, and
 * its `missing` bytes too when `checkMissing`.
 */
async function checkCut(
  c: StreamCase,
  reader: FrameReader,
  cut: number,
  checkMissing: boolean,
): Promise<void> {
  const { boundaries, headerSizes } = c;
  const where = `${describe(c)}, cut at byte ${cut}`;

  // Frames wholly before the cut come back intact.
  let frame = 0;
  while (boundaries[frame + 1] <= cut) {
    const payload = await reader.read();
    assert.ok(payload !== null, `${where}: null instead of frame ${frame}`);
    assertSameBytes(payload, c.payloads[frame], `${where}: frame ${frame}`);
    frame++;
  }

  const into = cut - boundaries[frame];
  if (into === 0) {
    assert.equal(await reader.read(), null, `${where}: cut at a frame boundary`);
    return;
  }
  const size = headerSizes[frame];
  // A varint cut short needs at least one byte more; a fixed header, all of its bytes.
  const [part, expected, received] = into < size
    ? ["header", c.format.lengthField === "varint" ? into + 1 : size, into] as const
    : ["payload", c.payloads[frame].byteLength, into - size] as const;
  await assert.rejects(reader.read(), (error: unknown): boolean => {
    assert.ok(error instanceof IncompleteFrameError, `${where}: got ${error}`);
    assert.deepEqual(
      { part: error.part, expected: error.expected, received: error.received },
      { part, expected, received },
      `${where}: frame ${frame} cut ${into} bytes in`,
    );
    if (checkMissing) assert.equal(error.missing, expected - received, `${where}: missing`);
    return true;
  });
}

Deno.test("FrameReader.read returns every frame byte-exact and in order, then null, however the stream is cut", async () => {
  await forEachSeed((seed) => checkRead(readerCase(seed)));
});

Deno.test("FrameReader.readView returns every frame byte-exact and in order, then null, however the stream is cut", async () => {
  await forEachSeed(async (seed) => {
    const { c, source, reader } = readerCase(seed);
    const copies: Uint8Array[] = [];
    for (let i = 0; i < c.payloads.length; i++) {
      const view = await reader.readView();
      assert.ok(view !== null, `${describe(c)}: null instead of frame ${i}`);
      copies.push(view.slice()); // the view is valid only until the next call
    }
    assert.equal(await reader.readView(), null, `${describe(c)}: after the last frame`);
    for (const [i, expected] of c.payloads.entries()) {
      assertSameBytes(copies[i], expected, `${describe(c)}: frame ${i}`);
    }
    assertRequestsWithinBuffer(source, c);
  });
});

Deno.test("FrameReader returns every frame to a loop of readBuffered, then readView when nothing is buffered", async () => {
  await forEachSeed((seed) => checkReadBufferedLoop(readerCase(seed)));
});

Deno.test("FrameReader returns every frame to readView then readEachBuffered, the server's loop", async () => {
  await forEachSeed((seed) => checkServerLoop(readerCase(seed)));
});

Deno.test("FrameReader's hasBufferedFrame, bufferedBytes and isMidFrame agree with what the source delivered", async () => {
  await forEachSeed((seed) => checkBufferState(readerCase(seed)));
});

Deno.test("FrameReader reports IncompleteFrameError when a stream is cut inside a frame, null at a boundary", async () => {
  await forEachSeed(async (seed) => {
    const c = streamCase(seed, 1);
    const { boundaries, random } = c;
    // Snap a third of the cuts to a frame boundary, the first and last included.
    const cut = random.next() < 1 / 3
      ? boundaries[random.int(0, boundaries.length - 1)]
      : random.int(0, c.stream.byteLength);
    const source = new ChunkedSource(randomChunks(random, c.stream.subarray(0, cut)));
    await checkCut(c, new FrameReader(source, { bufferSize: c.bufferSize }), cut, true);
  });
});

// ---------------------------------------------------------------------------
// Properties over every length-field format
// ---------------------------------------------------------------------------

/**
 * Runs `check` on `FORMAT_CASES` seeded cases, each in the format of its
 * seed, and asserts that every format had cases.
 */
async function forEachFormatSeed(check: (seed: number) => Promise<void>): Promise<void> {
  const ran = new Set<Format>();
  await forEachSeed((seed) => {
    ran.add(formatOf(seed));
    return check(seed);
  }, FORMAT_CASES);
  assert.deepEqual(
    FORMATS.filter((format) => !ran.has(format)).map(formatName),
    [],
    "formats that had no case",
  );
}

Deno.test("every length field: FrameReader.read returns every frame byte-exact and in order, then null, however the stream is cut", async () => {
  await forEachFormatSeed((seed) => checkRead(formatReaderCase(seed)));
});

Deno.test("every length field: readView then readEachBuffered, the server's loop, returns every frame", async () => {
  await forEachFormatSeed((seed) => checkServerLoop(formatReaderCase(seed)));
});

Deno.test("every length field: readBuffered, then readView when nothing is buffered, returns every frame", async () => {
  await forEachFormatSeed((seed) => checkReadBufferedLoop(formatReaderCase(seed)));
});

Deno.test("every length field: hasBufferedFrame, bufferedBytes and isMidFrame agree with what the source delivered", async () => {
  await forEachFormatSeed((seed) => checkBufferState(formatReaderCase(seed)));
});

Deno.test("every length field: a stream cut inside a frame ends in IncompleteFrameError naming the part, one cut at a boundary in null", async () => {
  await forEachFormatSeed(async (seed) => {
    const c = formatStreamCase(seed, 1);
    const { boundaries, headerSizes, random } = c;
    // A third of the cuts at a frame boundary, a third inside a header, a third anywhere.
    const roll = random.next();
    const at = random.int(0, boundaries.length - 2);
    const cut = roll < 1 / 3
      ? boundaries[random.int(0, boundaries.length - 1)]
      : roll < 2 / 3
      ? boundaries[at] + random.int(0, headerSizes[at] - 1)
      : random.int(0, c.stream.byteLength);
    const cuts = formatCuts(c);
    const source = new ChunkedSource(cutAt(c.stream.subarray(0, cut), cuts));
    const reader = new FrameReader(source, { ...c.format, bufferSize: c.bufferSize });
    await checkCut(c, reader, cut, false);
  });
});

/** A sink that takes a random part of each write and keeps every byte it took. */
class RandomSink {
  readonly #random: Random;
  readonly #taken: Uint8Array[] = [];

  constructor(random: Random) {
    this.#random = random;
  }

  write(p: Uint8Array): Promise<number> {
    const n = this.#random.next() < 0.5 ? p.byteLength : this.#random.int(1, p.byteLength);
    this.#taken.push(p.slice(0, n));
    return Promise.resolve(n);
  }

  get bytes(): Uint8Array {
    return concat(...this.#taken);
  }
}

Deno.test("every length field: FrameWriter writes the bytes encodeFrame makes, however text and bytes are queued", async () => {
  await forEachFormatSeed(async (seed) => {
    const random = new Random(seed);
    const format = formatOf(seed);
    // Payloads up to 80 KiB, so that the long ones are borrowed where the field allows them.
    const largest = Math.min(largestPayload(format), 80 * 1024);
    const texts: string[] = [];
    const count = random.int(1, 10);
    for (let i = 0; i < count; i++) {
      const roll = random.next();
      let length = roll < 0.3
        ? BOUNDARY_SIZES[random.int(0, BOUNDARY_SIZES.length - 1)]
        : roll < 0.35
        ? random.int(64 * 1024, 80 * 1024)
        : payloadSize(random);
      if (length > largest) length = random.int(0, largest);
      texts.push(randomText(random, length));
    }
    // Half the cases at a limit the longest payload just meets: the varint's header
    // room is then bounded by the limit rather than by the text.
    const longest = Math.max(...texts.map((text) => encoder.encode(text).byteLength));
    const options = random.next() < 0.5 ? { ...format, maxFrameSize: longest } : format;
    const sink = new RandomSink(random);
    const writer = new FrameWriter(sink, options);
    const ops: string[] = [];
    for (const text of texts) {
      const bytes = encoder.encode(text);
      const roll = random.next();
      if (roll < 0.3) {
        ops.push(`enqueue(text of ${text.length} units, ${bytes.byteLength} bytes)`);
        writer.enqueue(text);
      } else if (roll < 0.5) {
        ops.push(`enqueue(${bytes.byteLength} bytes, borrow)`);
        writer.enqueue(bytes, true);
      } else if (roll < 0.65) {
        ops.push(`enqueue(${bytes.byteLength} bytes)`);
        writer.enqueue(bytes);
      } else if (roll < 0.85) {
        const before = random.int(0, 9);
        const source = concat(new Uint8Array(before).fill(0xee), bytes, new Uint8Array(3));
        const borrow = random.next() < 0.5;
        ops.push(`enqueueRange(${before}, ${before + bytes.byteLength}, ${borrow})`);
        writer.enqueueRange(source, before, before + bytes.byteLength, borrow);
      } else {
        ops.push(`write(text of ${bytes.byteLength} bytes)`);
        await writer.write(text);
      }
      if (random.next() < 0.2) {
        ops.push("flush()");
        await writer.flush();
      }
    }
    await writer.flush();
    const expected = concat(...texts.map((text) => encodeFrame(text, format)));
    const context = `seed ${seed} (rerun with FRAMING_SEED=${seed}; ${formatName(format)}, ` +
      `maxFrameSize ${"maxFrameSize" in options ? longest : "default"}): ${ops.join(", ")}`;
    assertSameBytes(sink.bytes, expected, context);
    assert.equal(writer.bytesWritten, expected.byteLength, `${context}: bytesWritten`);
  });
});

// ---------------------------------------------------------------------------
// Every cut of a header, exhaustively
// ---------------------------------------------------------------------------

/** Reads every frame of `chunks` with `read()`, then the end, and compares them with `payloads`. */
async function assertDecodes(
  format: Format,
  bufferSize: number,
  chunks: Uint8Array[],
  payloads: Uint8Array[],
  context: string,
): Promise<void> {
  const reader = new FrameReader(new ChunkedSource(chunks), { ...format, bufferSize });
  for (const [i, expected] of payloads.entries()) {
    let payload: Uint8Array | null;
    try {
      payload = await reader.read();
    } catch (error) {
      assert.fail(`${context}: frame ${i} threw ${error}`);
    }
    assert.ok(payload !== null, `${context}: null instead of frame ${i}`);
    assertSameBytes(payload, expected, `${context}: frame ${i}`);
  }
  assert.equal(await reader.read(), null, `${context}: after the last frame`);
}

/** Receive buffer sizes around a header of `size` bytes in a format whose longest is `max`. */
function bufferSizesAround(size: number, max: number): number[] {
  return [...new Set([1, size - 1, size, size + 1, max - 1, max, max + 1, 64, 1024])]
    .filter((n) => n >= 1)
    .sort((a, b) => a - b);
}

/** Payload sizes whose headers take each size the format writes: a varint's 1, 2 and 3 bytes. */
function headerSizeSamples(format: Format): number[] {
  if (format.lengthField === "varint") return [0, 127, 128, 16_383, 16_384];
  return [0, Math.min(200, largestPayload(format))];
}

Deno.test("every length field: a header cut between two reads at each of its positions decodes, at buffer sizes around its size", async () => {
  for (const format of FORMATS) {
    for (const length of headerSizeSamples(format)) {
      const payloads = [utf8Bytes(5, 1), utf8Bytes(length, 2), utf8Bytes(3, 3)];
      const stream = concat(...payloads.map((payload) => encodeFrame(payload, format)));
      const at = headerSize(format, 5) + 5;
      const size = headerSize(format, length);
      for (const bufferSize of bufferSizesAround(size, maxHeaderSize(format))) {
        for (let k = 0; k <= size; k++) {
          await assertDecodes(
            format,
            bufferSize,
            cutAt(stream, [at + k]),
            payloads,
            `${formatName(format)}, ${length}-byte payload, bufferSize ${bufferSize}, ` +
              `its ${size}-byte header cut after ${k} bytes`,
          );
        }
        const everyByte = Array.from({ length: size + 1 }, (_, k) => at + k);
        await assertDecodes(
          format,
          bufferSize,
          cutAt(stream, everyByte),
          payloads,
          `${formatName(format)}, ${length}-byte payload, bufferSize ${bufferSize}, ` +
            `its ${size}-byte header one byte a read`,
        );
      }
    }
  }
});

/** `length` bytes, distinct from other payloads by `tag`. */
function utf8Bytes(length: number, tag: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + tag * 17) & 0x7f);
}

/** The varint of `value` in exactly `width` bytes: its shortest form padded with 0x80 groups. */
function paddedVarint(value: number, width: number): Uint8Array {
  const bytes = new Uint8Array(width);
  let rest = value;
  for (let i = 0; i < width; i++) {
    bytes[i] = (rest % 128) | (i < width - 1 ? 0x80 : 0);
    rest = Math.floor(rest / 128);
  }
  assert.equal(rest, 0, `${value} does not fit ${width} varint bytes`);
  return bytes;
}

Deno.test("a varint header, shortest or padded up to 5 bytes, cut across reads at any position decodes", async () => {
  const format: Format = { lengthField: "varint", lengthIncludesHeader: false };
  for (const value of [0, 1, 127, 128, 300]) {
    for (let width = headerSize(format, value); width <= 5; width++) {
      const header = paddedVarint(value, width);
      const middle = utf8Bytes(value, 2);
      const last = utf8Bytes(1, 3);
      // A first frame of 0 to 6 bytes puts the header at every offset of a small buffer.
      for (let before = 0; before <= 6; before++) {
        const first = utf8Bytes(before, 1);
        const stream = concat(
          encodeFrame(first, format),
          header,
          middle,
          encodeFrame(last, format),
        );
        const at = 1 + before;
        for (const bufferSize of [1, 2, 3, 4, 5, 6, 7, 64]) {
          const context = `varint ${value} in ${width} bytes after a ${before}-byte frame, ` +
            `bufferSize ${bufferSize}`;
          for (let k = 1; k < width; k++) {
            await assertDecodes(
              format,
              bufferSize,
              cutAt(stream, [at + k]),
              [first, middle, last],
              `${context}, header cut after ${k} bytes`,
            );
          }
          await assertDecodes(
            format,
            bufferSize,
            cutAt(stream, Array.from({ length: width + 1 }, (_, k) => at + k)),
            [first, middle, last],
            `${context}, header one byte a read`,
          );
        }
      }
    }
  }
});
