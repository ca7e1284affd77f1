// Copyright 2026 the buffered-framing authors. MIT license.
// The length-field formats (`lengthField`, `lengthIncludesHeader`) through every
// class and function that takes them: options refused at construction, the
// limits each format implies, the writer's headers whose size depends on the
// payload, streams, and serve(), BufferedServer and BufferedClient over loopback
// in every format, with corrupt, oversized and over-long headers on raw sockets.
// Byte-level vectors live in vectors_test.ts; random cuts in framing_property_test.ts.

import assert from "node:assert/strict";
import { BufferedClient } from "../client.ts";
import {
  type ByteSource,
  CorruptFrameError,
  DEFAULT_MAX_FRAME_SIZE,
  encodeFrame,
  type FrameFormatOptions,
  FrameReader,
  FrameTooLargeError,
  FrameWriter,
  type LengthFieldName,
  MAX_FRAME_SIZE_LIMIT,
  writeFrame,
} from "../framing.ts";
import { type FrameHandler, serve, type ServerStats } from "../serve.ts";
import { BufferedServer } from "../server.ts";
import { FrameDecoderStream, FrameEncoderStream } from "../streams.ts";
import {
  closeQuietly,
  connectRaw,
  guard,
  HOST,
  LiveServer,
  peerOf,
  readExactly,
  writeAllTo,
} from "./_faults.ts";
import { concat, connectPair, utf8 } from "./_helpers.ts";
import { ChunkedSource } from "./_bytes.ts";
import {
  FIXED_NAMES,
  FIXED_WIDTHS,
  type Format,
  formatName,
  FORMATS,
  largestPayload,
} from "./_formats.ts";
import { expectEnd, NO_CLOSE, serveOn, stopAfter, Watch } from "./_serve.ts";

// ---------------------------------------------------------------------------
// The formats, described here independently of the library
// ---------------------------------------------------------------------------

/** The header of a `length`-byte payload, written here by hand, not by the library. */
function wireHeader(format: Format, length: number): Uint8Array {
  if (format.lengthField === "varint") {
    const bytes: number[] = [];
    let rest = length;
    while (rest >= 128) {
      bytes.push((rest % 128) | 0x80);
      rest = Math.floor(rest / 128);
    }
    bytes.push(rest);
    return Uint8Array.from(bytes);
  }
  const width = FIXED_WIDTHS[format.lengthField];
  const declared = length + (format.lengthIncludesHeader ? width : 0);
  const littleEndian = format.lengthField.endsWith("le");
  const header = new Uint8Array(width);
  const view = new DataView(header.buffer);
  if (width === 1) header[0] = declared;
  else if (width === 2) view.setUint16(0, declared, littleEndian);
  else if (width === 4) view.setUint32(0, declared, littleEndian);
  else view.setBigUint64(0, BigInt(declared), littleEndian);
  return header;
}

/** One frame written by hand: {@linkcode wireHeader}, then the payload. */
function wireFrame(format: Format, payload: string | Uint8Array): Uint8Array {
  const bytes = typeof payload === "string" ? utf8(payload) : payload;
  return concat(wireHeader(format, bytes.byteLength), bytes);
}

/** Reads one frame in `format` by hand; `null` when the stream ends first. */
async function readWireFrame(conn: Deno.Conn, format: Format): Promise<Uint8Array | null> {
  let length: number;
  if (format.lengthField === "varint") {
    length = 0;
    for (let i = 0, scale = 1;; i++, scale *= 128) {
      const byte = await readExactly(conn, 1);
      if (byte === null) return null;
      length += (byte[0] & 0x7f) * scale;
      if (byte[0] < 0x80) break;
      assert.ok(i < 4, "a varint header longer than 5 bytes");
    }
  } else {
    const width = FIXED_WIDTHS[format.lengthField];
    const header = await readExactly(conn, width);
    if (header === null) return null;
    const littleEndian = format.lengthField.endsWith("le");
    const view = new DataView(header.buffer);
    const declared = width === 1
      ? header[0]
      : width === 2
      ? view.getUint16(0, littleEndian)
      : width === 4
      ? view.getUint32(0, littleEndian)
      : Number(view.getBigUint64(0, littleEndian));
    length = declared - (format.lengthIncludesHeader ? width : 0);
  }
  return await readExactly(conn, length);
}

/** Reads one frame in `format` and asserts that it carries `payload`. */
async function expectWireReply(
  conn: Deno.Conn,
  format: Format,
  payload: string | Uint8Array,
  what = "a reply",
): Promise<void> {
  const got = await guard(readWireFrame(conn, format), what);
  const expected = typeof payload === "string" ? utf8(payload) : payload;
  assert.ok(got !== null, `${what}: end of stream`);
  assert.deepEqual(got, expected, `${what} in ${formatName(format)}`);
}

// ---------------------------------------------------------------------------
// In-memory sources and sinks
// ---------------------------------------------------------------------------

/** Hands out one scripted chunk per `read` (each must fit `p`), then the end. */
class ScriptedSource implements ByteSource {
  readonly #chunks: Uint8Array[];
  reads = 0;

  constructor(...chunks: Uint8Array[]) {
    this.#chunks = chunks;
  }

  read(p: Uint8Array): Promise<number | null> {
    const chunk = this.#chunks.shift();
    if (chunk === undefined) return Promise.resolve(null);
    assert.ok(chunk.byteLength <= p.byteLength, "a scripted chunk larger than the read");
    this.reads++;
    p.set(chunk);
    return Promise.resolve(chunk.byteLength);
  }
}

/** A sink that takes every write whole and keeps a copy of what it took. */
class CaptureSink {
  readonly #taken: Uint8Array[] = [];

  write(p: Uint8Array): Promise<number> {
    this.#taken.push(p.slice());
    return Promise.resolve(p.byteLength);
  }

  get bytes(): Uint8Array {
    return concat(...this.#taken);
  }
}

/** `length` bytes, distinct from other payloads by `tag`. */
function patterned(length: number, tag = 0): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + tag * 17 + 1) & 0xff);
}

// ---------------------------------------------------------------------------
// Options refused at construction
// ---------------------------------------------------------------------------

/** Replies with the request itself. */
function echo(payload: Uint8Array): Uint8Array {
  return payload;
}

/** One way into the library that takes format options: it is built, then closed. */
interface EntryPoint {
  name: string;
  build(options: FrameFormatOptions): unknown;
}

/** Builds `entry` with `options`: a throw, synchronous or not, rejects. */
async function built(entry: EntryPoint, options: FrameFormatOptions): Promise<void> {
  await entry.build(options);
}

const ENTRY_POINTS: EntryPoint[] = [
  {
    name: "encodeFrame",
    build: (options) => encodeFrame("x", options),
  },
  {
    name: "writeFrame",
    build: (options) => writeFrame(new CaptureSink(), "x", options),
  },
  {
    name: "FrameWriter",
    build: (options) => new FrameWriter(new CaptureSink(), options),
  },
  {
    name: "FrameReader",
    build: (options) => new FrameReader(new ScriptedSource(), options),
  },
  {
    name: "FrameDecoderStream",
    build: (options) => new FrameDecoderStream(options),
  },
  {
    name: "FrameEncoderStream",
    build: (options) => new FrameEncoderStream(options),
  },
  {
    name: "new BufferedClient",
    build: async (options) => {
      using listener = Deno.listen({ hostname: HOST, port: 0 });
      const conn = await Deno.connect({ hostname: HOST, port: listener.addr.port });
      using _peer = await listener.accept();
      let client: BufferedClient;
      try {
        client = new BufferedClient(conn, 16, options);
      } catch (error) {
        conn.close(); // refused: the connection is still the caller's
        throw error;
      }
      client.shutdown();
    },
  },
  {
    // A listener, so that a client that connected before checking would leak
    // a connection the resource sanitizer reports.
    name: "BufferedClient.connect",
    build: async (options) => {
      using listener = Deno.listen({ hostname: HOST, port: 0 });
      const client = await BufferedClient.connect(HOST, listener.addr.port, 16, options);
      using _peer = await listener.accept();
      client.shutdown();
    },
  },
  {
    name: "serve",
    build: async (options) => {
      const server = serve({ ...options, hostname: HOST, port: 0, log: () => {} }, echo);
      await server.shutdown();
    },
  },
  {
    name: "BufferedServer",
    build: async (options) => {
      await using _server = new BufferedServer(HOST, 0, 16, { ...options, log: () => {} });
    },
  },
];

/** Asserts that `built` rejects with a RangeError whose message has every one of `names`. */
async function assertRangeErrorNaming(built: Promise<void>, names: string[]): Promise<void> {
  await assert.rejects(built, (error: unknown): boolean => {
    assert.ok(error instanceof RangeError, `a RangeError, got ${error}`);
    for (const name of names) {
      assert.ok(error.message.includes(name), `the message names ${name}: ${error.message}`);
    }
    return true;
  });
}

/** Formats at the edge of what their field can declare: [options, largest payload]. */
const LIMITS: [Format, number][] = [
  [{ lengthField: "u8", lengthIncludesHeader: false }, 255],
  [{ lengthField: "u8", lengthIncludesHeader: true }, 254],
  [{ lengthField: "u16le", lengthIncludesHeader: false }, 65_535],
  [{ lengthField: "u16be", lengthIncludesHeader: true }, 65_533],
  [{ lengthField: "u32le", lengthIncludesHeader: true }, 2 ** 32 - 5],
  [{ lengthField: "u64be", lengthIncludesHeader: true }, 2 ** 32 - 1],
  [{ lengthField: "varint", lengthIncludesHeader: false }, 2 ** 32 - 1],
];

for (const entry of ENTRY_POINTS) {
  Deno.test(`${entry.name} refuses an unknown lengthField at construction, naming it`, async () => {
    await assertRangeErrorNaming(
      built(entry, { lengthField: "u24be" as LengthFieldName }),
      ["lengthField", '"u24be"'],
    );
  });

  Deno.test(`${entry.name} refuses lengthIncludesHeader with "varint" at construction, naming both`, async () => {
    await assertRangeErrorNaming(
      built(entry, { lengthField: "varint", lengthIncludesHeader: true }),
      ["lengthIncludesHeader", "varint"],
    );
  });

  Deno.test(`${entry.name} accepts a maxFrameSize up to what the field can declare and refuses one more, naming both`, async () => {
    for (const [format, largest] of LIMITS) {
      await built(entry, { ...format, maxFrameSize: largest });
      await assertRangeErrorNaming(
        built(entry, { ...format, maxFrameSize: largest + 1 }),
        ["maxFrameSize", `${largest + 1}`, `${largest}`],
      );
    }
  });
}

// ---------------------------------------------------------------------------
// The limits each format implies
// ---------------------------------------------------------------------------

Deno.test("readers default maxFrameSize to the smaller of 16 MiB and what the field can declare", () => {
  const expected: [Format, number][] = [
    [{ lengthField: "u8", lengthIncludesHeader: false }, 255],
    [{ lengthField: "u8", lengthIncludesHeader: true }, 254],
    [{ lengthField: "u16be", lengthIncludesHeader: false }, 65_535],
    [{ lengthField: "u16le", lengthIncludesHeader: true }, 65_533],
    [{ lengthField: "u32be", lengthIncludesHeader: false }, DEFAULT_MAX_FRAME_SIZE],
    [{ lengthField: "u32le", lengthIncludesHeader: true }, DEFAULT_MAX_FRAME_SIZE],
    [{ lengthField: "u64be", lengthIncludesHeader: false }, DEFAULT_MAX_FRAME_SIZE],
    [{ lengthField: "u64le", lengthIncludesHeader: true }, DEFAULT_MAX_FRAME_SIZE],
    [{ lengthField: "varint", lengthIncludesHeader: false }, DEFAULT_MAX_FRAME_SIZE],
  ];
  for (const [format, limit] of expected) {
    const name = formatName(format);
    assert.equal(new FrameReader(new ScriptedSource(), format).maxFrameSize, limit, name);
    assert.equal(new FrameDecoderStream(format).maxFrameSize, limit, `${name}: decoder stream`);
  }
});

Deno.test("encoders default maxFrameSize to what the field can declare: the largest payload goes, one byte more is FrameTooLargeError", async () => {
  for (const [format, largest] of LIMITS.filter(([, largest]) => largest <= 65_535)) {
    const name = formatName(format);
    const fits = patterned(largest);
    const over = patterned(largest + 1);
    assert.equal(encodeFrame(fits, format).byteLength, wireFrame(format, fits).byteLength, name);
    assert.throws(() => encodeFrame(over, format), FrameTooLargeError, `${name}: encodeFrame`);
    const frames = ReadableStream.from([over]).pipeThrough(new FrameEncoderStream(format));
    await assert.rejects(Array.fromAsync(frames), FrameTooLargeError, `${name}: encoder stream`);
  }
  // Above 16 MiB, where a reader's default stops: encoders still take it.
  const varint: Format = { lengthField: "varint", lengthIncludesHeader: false };
  const long = new Uint8Array(DEFAULT_MAX_FRAME_SIZE + 1);
  assert.deepEqual(encodeFrame(long, varint).subarray(0, 4), wireHeader(varint, long.byteLength));
});

Deno.test("FrameWriter with u8 refuses a 256-byte payload, bytes or text, with FrameTooLargeError and queues nothing", async () => {
  const sink = new CaptureSink();
  const writer = new FrameWriter(sink, { lengthField: "u8" });
  const refused = (error: unknown): boolean =>
    error instanceof FrameTooLargeError && error.length === 256 && error.maxFrameSize === 255;
  assert.throws(() => writer.enqueue(patterned(256)), refused, "bytes");
  assert.throws(() => writer.enqueue("x".repeat(256)), refused, "text of 256 units");
  // 64 units that take 4 bytes each: measured only once encoded.
  assert.throws(() => writer.enqueue("😀".repeat(64)), refused, "text of 128 units, 256 bytes");
  assert.throws(() => writer.enqueueRange(patterned(300), 10, 266), refused, "a range");
  await assert.rejects(async () => await writer.write(patterned(256)), refused, "write");
  assert.equal(writer.pendingBytes, 0, "nothing queued");
  writer.enqueue(patterned(255));
  await writer.flush();
  assert.deepEqual(
    sink.bytes,
    wireFrame({ lengthField: "u8", lengthIncludesHeader: false }, patterned(255)),
  );
});

Deno.test("a BufferedClient with u8 counting its header refuses a 255-byte message and sends a 254-byte one", async () => {
  const format: Format = { lengthField: "u8", lengthIncludesHeader: true };
  await using pair = await connectPair(64, format);
  await assert.rejects(
    pair.client.sendMessage(patterned(255)),
    (error: unknown) => error instanceof FrameTooLargeError && error.maxFrameSize === 254,
  );
  await assert.rejects(
    pair.client.sendMessage("€".repeat(85)),
    FrameTooLargeError,
    "255 bytes of text",
  );
  await pair.client.sendMessage("€".repeat(84) + "ab");
  // The first bytes on the wire are the frame that was sent: nothing of the refused ones.
  assert.deepEqual(
    await readExactly(pair.conn, 255),
    wireFrame(format, "€".repeat(84) + "ab"),
  );
});

// ---------------------------------------------------------------------------
// FrameWriter: headers whose size depends on the payload
// ---------------------------------------------------------------------------

/** Text whose UTF-8 length decides a varint header's size, next to its boundaries. */
const HEADER_SIZING_TEXTS: [string, string][] = [
  ["empty", ""],
  ["100 ASCII characters (room for 300 bytes, 100 written)", "a".repeat(100)],
  ["50 three-byte characters (150 bytes)", "€".repeat(50)],
  ["127 ASCII characters", "b".repeat(127)],
  ["128 ASCII characters", "c".repeat(128)],
  ["42 three-byte characters and 1 ASCII (127 bytes)", "中".repeat(42) + "d"],
  ["42 three-byte characters and 2 ASCII (128 bytes)", "中".repeat(42) + "ef"],
  ["31 four-byte characters and 3 ASCII (127 bytes)", "😀".repeat(31) + "ghi"],
  ["32 four-byte characters (128 bytes)", "😀".repeat(32)],
  ["85 three-byte characters (255 bytes)", "€".repeat(85)],
  ["16383 bytes of mixed text", "é".repeat(8000) + "中".repeat(127) + "x".repeat(2)],
  ["16384 bytes of mixed text", "é".repeat(8000) + "中".repeat(128)],
  ["5462 three-byte characters (16386 bytes)", "€".repeat(5462)],
];

/** Each case that fits the format, as [name, text]. */
function fitting(format: Format, texts: [string, string][]): [string, string][] {
  return texts.filter(([, text]) => utf8(text).byteLength <= largestPayload(format));
}

Deno.test("FrameWriter.enqueue writes text whose header size depends on its UTF-8 length as encodeFrame does, in every format", async () => {
  for (const format of FORMATS) {
    for (const [name, text] of fitting(format, HEADER_SIZING_TEXTS)) {
      const context = `${formatName(format)}: ${name}`;
      const sink = new CaptureSink();
      const writer = new FrameWriter(sink, format);
      writer.enqueue("before");
      writer.enqueue(text);
      writer.enqueue("after");
      await writer.flush();
      const expected = concat(
        encodeFrame("before", format),
        encodeFrame(text, format),
        encodeFrame("after", format),
      );
      assert.deepEqual(sink.bytes, expected, context);
      assert.deepEqual(
        sink.bytes,
        concat(...["before", text, "after"].map((t) => wireFrame(format, t))),
        `${context}: on the wire`,
      );
    }
  }
});

Deno.test("FrameWriter with varint and an explicit maxFrameSize of 127, 128, 150 or 16383 writes each text with its shortest header", async () => {
  const varint: Format = { lengthField: "varint", lengthIncludesHeader: false };
  for (const maxFrameSize of [127, 128, 150, 16_383]) {
    for (const [name, text] of HEADER_SIZING_TEXTS) {
      if (utf8(text).byteLength > maxFrameSize) continue;
      const sink = new CaptureSink();
      await new FrameWriter(sink, { ...varint, maxFrameSize }).write(text);
      assert.deepEqual(
        sink.bytes,
        wireFrame(varint, text),
        `maxFrameSize ${maxFrameSize}: ${name}`,
      );
    }
  }
});

Deno.test("FrameWriter.enqueueRange writes a range's frame as encodeFrame writes the range, in every format", async () => {
  const source = patterned(20_000, 7);
  for (const format of FORMATS) {
    const ranges: [number, number][] = [[0, 0], [3, 130], [5, 132], [1, 256], [2, 16_386]];
    const fits = ranges.filter(([start, end]) => end - start <= largestPayload(format));
    const sink = new CaptureSink();
    const writer = new FrameWriter(sink, format);
    for (const [start, end] of fits) writer.enqueueRange(source, start, end);
    await writer.flush();
    assert.deepEqual(
      sink.bytes,
      concat(...fits.map(([start, end]) => encodeFrame(source.subarray(start, end), format))),
      formatName(format),
    );
  }
});

Deno.test("FrameWriter writes a borrowed long payload as encodeFrame does, between short frames, in every format", async () => {
  for (const format of FORMATS) {
    // 100 KiB where the field can declare it (borrowed), else the longest it can.
    const long = patterned(Math.min(100 * 1024, largestPayload(format)), 3);
    const sink = new CaptureSink();
    const writer = new FrameWriter(sink, format);
    writer.enqueue("a");
    writer.enqueue(long, true);
    writer.enqueueRange(long, 0, long.byteLength, true);
    writer.enqueue(new Uint8Array([0xff]));
    await writer.flush();
    assert.deepEqual(
      sink.bytes,
      concat(
        encodeFrame("a", format),
        encodeFrame(long, format),
        encodeFrame(long, format),
        encodeFrame(new Uint8Array([0xff]), format),
      ),
      formatName(format),
    );
  }
});

Deno.test("a u64 reader counting the header takes a declared 2^32 + 7 as a payload of 2^32 - 1 bytes, within maxFrameSize 2^32 - 1", async () => {
  for (const lengthField of ["u64be", "u64le"] as const) {
    const format: Format = { lengthField, lengthIncludesHeader: true };
    const reader = new FrameReader(
      new ScriptedSource(concat(wireFrame(format, "first"), wireHeader(format, 2 ** 32 - 1))),
      { ...format, maxFrameSize: MAX_FRAME_SIZE_LIMIT, bufferSize: 64 },
    );
    assert.deepEqual(await reader.readView(), utf8("first"));
    // The next frame's header is buffered, its payload is not: nothing to return yet,
    // and nothing refused (reading on would allocate 4 GiB, so the test stops here).
    assert.equal(reader.readBuffered(), undefined, lengthField);
    assert.equal(reader.bufferedBytes, 8, lengthField);
  }
});

// ---------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------

/** Re-cuts a byte stream into chunks of 1, 2 and 3 bytes in turn. */
function smallChunks(): TransformStream<Uint8Array, Uint8Array> {
  let size = 0;
  return new TransformStream({
    transform(chunk, controller): void {
      for (let offset = 0; offset < chunk.byteLength;) {
        const n = (size++ % 3) + 1;
        controller.enqueue(chunk.slice(offset, offset + n));
        offset += n;
      }
    },
  });
}

Deno.test("FrameEncoderStream then FrameDecoderStream, cut into 1- to 3-byte chunks, returns every message in every format", async () => {
  for (const format of FORMATS) {
    const largest = Math.min(largestPayload(format), 16_384);
    const messages: (string | Uint8Array)[] = [
      "",
      "hé中😀",
      new Uint8Array([0xff, 0x00, 0xfe]),
      "x".repeat(127),
      patterned(128),
      patterned(largest, 1),
      "last",
    ];
    const decoder = new FrameDecoderStream({ ...format, bufferSize: 3 });
    const payloads = await Array.fromAsync(
      ReadableStream.from(messages)
        .pipeThrough(new FrameEncoderStream(format))
        .pipeThrough(smallChunks())
        .pipeThrough(decoder),
    );
    assert.deepEqual(
      payloads,
      messages.map((message) => typeof message === "string" ? utf8(message) : message),
      formatName(format),
    );
  }
});

// ---------------------------------------------------------------------------
// serve() in every format
// ---------------------------------------------------------------------------

/**
 * Serves one raw connection that `drive` plays and then closes, waits for
 * the server to log its end, stops the server and returns its statistics,
 * log and the requests the handler saw.
 */
async function afterOneConnection(
  handler: FrameHandler,
  options: Parameters<typeof serveOn>[2],
  drive: (conn: Deno.TcpConn) => Promise<void>,
): Promise<{ stats: ServerStats; log: string; seen: string[] }> {
  const watch = new Watch();
  await using server = serveOn(watch, (payload, info) => {
    watch.note(payload);
    return handler(payload, info);
  }, options);
  const conn = await connectRaw(server.addr.port);
  try {
    await drive(conn);
  } finally {
    closeQuietly(conn);
  }
  const stats = await stopAfter(server, watch, [peerOf(conn)]);
  return { stats, log: watch.lines.join("\n"), seen: watch.seen };
}

/** What each format's echo tests send: text, bytes that are not text, empty, near boundaries. */
function echoMessages(format: Format): (string | Uint8Array)[] {
  return [
    "héllo, wörld — 中文 😀",
    new Uint8Array([0xff, 0xfe, 0x00, 0x80]),
    "",
    "x".repeat(127),
    patterned(128),
    patterned(Math.min(largestPayload(format), 70_000), 5),
  ];
}

for (const format of FORMATS) {
  const name = formatName(format);

  Deno.test(`serve with ${name} echoes text and bytes to a BufferedClient with the same format`, async () => {
    const watch = new Watch();
    await using server = serveOn(watch, echo, format);
    await using client = await BufferedClient.connect(HOST, server.addr.port, 64, format);
    const messages = echoMessages(format);
    for (const message of messages) await client.sendMessage(message);
    for (const [i, message] of messages.entries()) {
      if (typeof message === "string") {
        assert.deepEqual(await client.receiveMessage(), [message, true], `reply ${i}`);
      } else {
        assert.deepEqual(await client.receiveBytes(), [message, true], `reply ${i}`);
      }
    }
  });

  Deno.test(`serve with ${name} reads requests and writes replies in that format on the wire, counting its headers`, async () => {
    // Each reply is its request twice: a longer payload, so a header of its own.
    const requests = [utf8("ab"), new Uint8Array(0), patterned(100), patterned(127, 1)];
    const replies = requests.map((request) => concat(request, request));
    const { stats, seen } = await afterOneConnection(
      (payload) => concat(payload, payload),
      format,
      async (conn) => {
        await writeAllTo(conn, concat(...requests.map((request) => wireFrame(format, request))));
        for (const [i, reply] of replies.entries()) {
          await expectWireReply(conn, format, reply, `reply ${i}`);
        }
      },
    );
    assert.equal(seen.length, requests.length, "requests handled");
    assert.equal(
      stats.bytesReceived,
      requests.reduce((sum, request) => sum + wireFrame(format, request).byteLength, 0),
      "bytesReceived, headers included",
    );
    assert.equal(
      stats.bytesSent,
      replies.reduce((sum, reply) => sum + wireFrame(format, reply).byteLength, 0),
      "bytesSent, headers included",
    );
    assert.deepEqual(stats.closed, { ...NO_CLOSE, closedByClient: 1 });
  });
}

for (const lengthField of FIXED_NAMES) {
  const format: Format = { lengthField, lengthIncludesHeader: true };
  const width = FIXED_WIDTHS[lengthField];

  Deno.test(`serve with ${lengthField} counting its header closes a connection whose frame declares less than the header, after the replies owed, as corruptFrame`, async () => {
    // A length one below the header's own size, written by hand.
    const corrupt = wireHeader({ lengthField, lengthIncludesHeader: false }, width - 1);
    const { stats, log, seen } = await afterOneConnection(echo, format, async (conn) => {
      await writeAllTo(conn, concat(wireFrame(format, "one"), wireFrame(format, ""), corrupt));
      await expectWireReply(conn, format, "one", "the reply to the first request");
      await expectWireReply(conn, format, "", "the reply to the empty request");
      await expectEnd(conn);
    });
    assert.deepEqual(stats.closed, { ...NO_CLOSE, corruptFrame: 1 });
    assert.deepEqual(seen, ["one", ""], "the corrupt frame is not a request");
    assert.match(
      log,
      /disconnected: CorruptFrameError: Corrupt frame: the length field \[[0-9a-f ]+\] declares less than/,
    );
  });
}

const VARINT: Format = { lengthField: "varint", lengthIncludesHeader: false };

Deno.test("serve with varint closes a connection whose header runs past 5 bytes, after the replies owed, as corruptFrame", async () => {
  const { stats, seen } = await afterOneConnection(echo, VARINT, async (conn) => {
    // Five continuation bytes: no 32-bit length is that long, whatever follows.
    await writeAllTo(conn, concat(wireFrame(VARINT, "one"), new Uint8Array(5).fill(0x80)));
    await expectWireReply(conn, VARINT, "one", "the reply to the first request");
    await expectEnd(conn);
  });
  assert.deepEqual(stats.closed, { ...NO_CLOSE, corruptFrame: 1 });
  assert.deepEqual(seen, ["one"]);
});

Deno.test("serve with varint refuses a header whose first 4 bytes already exceed 16 MiB as frameTooLarge, without waiting for its last byte", async () => {
  // No frame or idle timeout: only the header's first bytes can end the connection.
  const options = { ...VARINT, frameTimeout: 0, idleTimeout: 0 };
  const { stats, log } = await afterOneConnection(echo, options, async (conn) => {
    // 2^28 - 1 so far, and a 5th byte still to come: over the limit whatever it is.
    await writeAllTo(
      conn,
      concat(wireFrame(VARINT, "one"), new Uint8Array([0xff, 0xff, 0xff, 0xff])),
    );
    await expectWireReply(conn, VARINT, "one", "the reply to the first request");
    await expectEnd(conn);
  });
  assert.deepEqual(stats.closed, { ...NO_CLOSE, frameTooLarge: 1 });
  assert.match(
    log,
    /disconnected: FrameTooLargeError: Frame of at least 268435455 bytes exceeds the limit: 16777216/,
  );
});

Deno.test("serve with varint and maxFrameSize 100 refuses a header whose first byte already declares 101, without waiting for the rest", async () => {
  const options = { ...VARINT, maxFrameSize: 100, frameTimeout: 0, idleTimeout: 0 };
  const { stats } = await afterOneConnection(echo, options, async (conn) => {
    // 0xe5: 101 in its low 7 bits, and more groups to come.
    await writeAllTo(conn, concat(wireFrame(VARINT, "one"), new Uint8Array([0xe5])));
    await expectWireReply(conn, VARINT, "one", "the reply to the first request");
    await expectEnd(conn);
  });
  assert.deepEqual(stats.closed, { ...NO_CLOSE, frameTooLarge: 1 });
});

const U8: Format = { lengthField: "u8", lengthIncludesHeader: false };

/** The three shapes of a reply too long for a u8 field, each for the request "long". */
const TOO_LONG_REPLIES: [string, FrameHandler][] = [
  ["bytes", (payload) => payload.byteLength === 4 ? patterned(256) : payload],
  // 100 units, 300 bytes: within the limit counted in units, over it once encoded.
  ["text", (payload) => payload.byteLength === 4 ? "€".repeat(100) : payload],
  [
    "bytes from an async handler",
    (payload) => Promise.resolve(payload.byteLength === 4 ? patterned(300) : payload.slice()),
  ],
];

for (const [shape, handler] of TOO_LONG_REPLIES) {
  Deno.test(`serve with u8: a handler reply of ${shape} longer than the field can declare ends the connection as handlerError, after the earlier replies`, async () => {
    const { stats, log } = await afterOneConnection(handler, U8, async (conn) => {
      await writeAllTo(
        conn,
        concat(wireFrame(U8, "one"), wireFrame(U8, "long"), wireFrame(U8, "two")),
      );
      await expectWireReply(conn, U8, "one", "the reply to the first request");
      await expectEnd(conn);
    });
    assert.deepEqual(stats.closed, { ...NO_CLOSE, handlerError: 1 });
    assert.equal(stats.framesSent, 1, "only the first reply");
    assert.match(
      log,
      /handler failed: FrameTooLargeError: Frame of \d+ bytes exceeds the limit: 255/,
    );
  });
}

// ---------------------------------------------------------------------------
// The demo server and the client in a format
// ---------------------------------------------------------------------------

Deno.test("BufferedServer with u16le answers a BufferedClient with the same format with each message minus its first 10 characters", async () => {
  await using live = new LiveServer(64, { lengthField: "u16le" });
  await using client = await BufferedClient.connect(HOST, live.port, 64, { lengthField: "u16le" });
  const long = "0123456789" + "y".repeat(1000);
  for (const message of ["0123456789hello", "0123456789é中😀 wide", long, "short"]) {
    await client.sendMessage(message);
  }
  assert.deepEqual(await client.receiveMessage(), ["hello", true]);
  assert.deepEqual(await client.receiveMessage(), ["é中😀 wide", true]);
  assert.deepEqual(await client.receiveMessage(), ["y".repeat(1000), true]);
  assert.deepEqual(await client.receiveMessage(), ["", true]);
});

Deno.test("BufferedServer with u16le reads and writes 2-byte little-endian lengths on the wire", async () => {
  await using live = new LiveServer(64, { lengthField: "u16le" });
  using conn = await connectRaw(live.port);
  const request = "0123456789" + "z".repeat(300);
  // 310 = 0x0136, low byte first; written here byte by byte.
  await writeAllTo(conn, concat(new Uint8Array([0x36, 0x01]), utf8(request)));
  // 300 = 0x012c, low byte first.
  assert.deepEqual(
    await guard(readExactly(conn, 2), "the reply's header"),
    new Uint8Array([0x2c, 0x01]),
  );
  assert.deepEqual(
    await guard(readExactly(conn, 300), "the reply's payload"),
    utf8("z".repeat(300)),
  );
});

Deno.test("a BufferedClient counting a u16 header fails with CorruptFrameError on a reply that declares less than its header", async () => {
  const format: Format = { lengthField: "u16be", lengthIncludesHeader: true };
  await using pair = await connectPair(64, format);
  await writeAllTo(pair.conn, concat(wireFrame(format, "fine"), new Uint8Array([0x00, 0x01])));
  assert.deepEqual(await pair.client.receiveMessage(), ["fine", true]);
  assert.deepEqual(await pair.client.receiveMessage(), ["", false]);
  assert.ok(pair.client.failure instanceof CorruptFrameError, `got ${pair.client.failure}`);
  assert.equal(pair.client.failure.reason, "length-below-header");
});

// ---------------------------------------------------------------------------
// hasBufferedFrame and readBuffered with split varint headers
// ---------------------------------------------------------------------------

Deno.test("hasBufferedFrame and readBuffered see whole varint frames, and nothing while the next header is split", async () => {
  const first = patterned(3, 1);
  const second = patterned(2, 2);
  const third = patterned(200, 3); // a 2-byte header: 0xc8 0x01
  const thirdFrame = wireFrame(VARINT, third);
  const source = new ScriptedSource(
    concat(wireFrame(VARINT, first), wireFrame(VARINT, second), thirdFrame.subarray(0, 1)),
    thirdFrame.subarray(1),
  );
  const reader = new FrameReader(source, { ...VARINT, bufferSize: 256 });
  assert.deepEqual(await reader.readView(), first);
  assert.equal(reader.hasBufferedFrame, true, "the second frame is whole in the buffer");
  assert.deepEqual(reader.readBuffered(), second);
  assert.equal(reader.hasBufferedFrame, false, "half a header is not a frame");
  assert.equal(reader.readBuffered(), undefined);
  assert.equal(reader.bufferedBytes, 1, "the header's first byte stays buffered");
  assert.equal(reader.isMidFrame, true);
  assert.equal(source.reads, 1);
  assert.deepEqual(await reader.readView(), third, "the header completed by the next read");
  assert.equal(await reader.readView(), null);
});

Deno.test("hasBufferedFrame stays false and readBuffered consumes nothing at every cut of a 5-byte padded varint header", async () => {
  // 3 in five bytes: 0x83 0x80 0x80 0x80 0x00, then its payload.
  const frame = concat(new Uint8Array([0x83, 0x80, 0x80, 0x80, 0x00]), patterned(3, 4));
  const lead = wireFrame(VARINT, "a");
  for (let cut = 1; cut < frame.byteLength; cut++) {
    const source = new ScriptedSource(concat(lead, frame.subarray(0, cut)), frame.subarray(cut));
    const reader = new FrameReader(source, { ...VARINT, bufferSize: 64 });
    assert.deepEqual(await reader.readView(), utf8("a"));
    assert.equal(reader.hasBufferedFrame, false, `cut after ${cut} bytes`);
    assert.equal(reader.readBuffered(), undefined, `cut after ${cut} bytes`);
    assert.equal(reader.bufferedBytes, cut, `cut after ${cut} bytes: nothing consumed`);
    assert.deepEqual(await reader.readView(), patterned(3, 4), `cut after ${cut} bytes`);
  }
});

Deno.test("only the listed lengthField names are accepted: an internal key or null is a RangeError", () => {
  for (const name of ["u32be+", "u16le+", null, "U32BE", ""]) {
    assert.throws(
      () => encodeFrame("hi", { lengthField: name as unknown as LengthFieldName }),
      (error) => error instanceof RangeError && /lengthField/.test(error.message),
      `lengthField ${JSON.stringify(name)}`,
    );
  }
});

Deno.test("a varint refused before its end reports 'at least' its length so far, lengthIsExact false", async () => {
  // ff ff ff 7f declares 2^28 - 1; its first three bytes already exceed 1,000.
  const reader = new FrameReader(new ChunkedSource([new Uint8Array([0xff, 0xff, 0xff, 0x7f])]), {
    lengthField: "varint",
    maxFrameSize: 1000,
  });
  await assert.rejects(reader.read(), (error) => {
    assert.ok(error instanceof FrameTooLargeError);
    assert.equal(error.lengthIsExact, false);
    assert.equal(error.length, 0x7f + 0x7f * 128);
    assert.match(error.message, /^Frame of at least 16383 bytes exceeds the limit: 1000$/);
    return true;
  });
});

Deno.test("a u64 length is exact in its error up to 2^53 and marked inexact past it", async () => {
  for (
    const [header, exact] of [
      [[0, 0, 0, 1, 0, 0, 0, 0], true], // 2^32
      [[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], false], // 2^64 - 1
    ] as const
  ) {
    const reader = new FrameReader(new ChunkedSource([new Uint8Array(header)]), {
      lengthField: "u64be",
    });
    await assert.rejects(
      reader.read(),
      (error) => error instanceof FrameTooLargeError && error.lengthIsExact === exact,
    );
  }
});

Deno.test("lengthIncludesHeader must be a boolean: null and a string are TypeErrors", () => {
  for (const value of [null, "yes"]) {
    assert.throws(
      () => encodeFrame("hi", { lengthIncludesHeader: value as unknown as boolean }),
      (error) => error instanceof TypeError && /lengthIncludesHeader/.test(error.message),
      `lengthIncludesHeader ${JSON.stringify(value)}`,
    );
  }
});
