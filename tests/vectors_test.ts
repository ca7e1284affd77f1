// Copyright 2026 the buffered-framing authors. MIT license.
// The library against testdata/vectors.json: language-neutral vectors written by an
// independent implementation (testdata/make_vectors.py), shared with the peers in other
// languages. Every vector runs as a named step, so a failure names its vector.

import assert from "node:assert/strict";
import {
  CorruptFrameError,
  encodeFrame,
  FrameReader,
  type FrameReaderOptions,
  FrameTooLargeError,
  IncompleteFrameError,
} from "../mod.ts";
import { assertSameBytes, ChunkedSource, concat, cutAt } from "./_bytes.ts";

type LengthFieldName = NonNullable<FrameReaderOptions["lengthField"]>;

/** Hex, or one byte repeated `count` times. */
type Bytes = string | { fill: string; count: number };

interface FormatVector {
  lengthField: LengthFieldName;
  headerBytes: number | null;
  byteOrder: "big" | "little" | null;
  maxPayload: number;
}

interface FrameVector {
  name: string;
  lengthField: LengthFieldName;
  lengthIncludesHeader: boolean;
  payload: Bytes;
  header: string;
  decodeOnly: boolean;
}

interface RefusalVector {
  name: string;
  lengthField: LengthFieldName;
  lengthIncludesHeader: boolean;
  maxFrameSize: number | null;
  payloadLength: number;
  error: "FrameTooLargeError";
}

type End =
  | "clean"
  | "IncompleteFrameError:header"
  | "IncompleteFrameError:payload"
  | "FrameTooLargeError"
  | "CorruptFrameError";

interface StreamVector {
  name: string;
  lengthField: LengthFieldName;
  lengthIncludesHeader: boolean;
  maxFrameSize: number | null;
  input: Bytes[];
  reads: number[] | null;
  payloads: Bytes[];
  end: End;
}

interface Vectors {
  version: number;
  description: string;
  formats: FormatVector[];
  frames: FrameVector[];
  refusals: RefusalVector[];
  streams: StreamVector[];
}

const vectors: Vectors = JSON.parse(
  await Deno.readTextFile(new URL("../testdata/vectors.json", import.meta.url)),
);

/** Inputs up to this many bytes are tried split at every byte. */
const SPLIT_EVERY_BYTE_UP_TO = 300;
/** Reader buffer sizes every frame is decoded at. */
const FRAME_BUFFER_SIZES = [1, 3, 4096, 65536];
/** Reader buffer sizes every stream is decoded at. */
const STREAM_BUFFER_SIZES = [1, 65536];
/** Payloads up to this size are allocated for real in the refusal checks. */
const REAL_PAYLOAD_LIMIT = 64 * 1024 * 1024;
const MIB = 1024 * 1024;
const DEFAULT_READER_LIMIT = 16 * MIB;

const ERRORS = { FrameTooLargeError, IncompleteFrameError, CorruptFrameError } as const;

// ---------------------------------------------------------------------------
// Bytes
// ---------------------------------------------------------------------------

function hex(text: string): Uint8Array {
  assert.match(text, /^(?:[0-9a-f]{2})*$/, "vector hex is lowercase, whole bytes");
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function bytes(value: Bytes): Uint8Array {
  if (typeof value === "string") return hex(value);
  assert.match(value.fill, /^[0-9a-f]{2}$/, "a fill is one byte");
  return new Uint8Array(value.count).fill(parseInt(value.fill, 16));
}

/** `stream` in successive reads of the given byte counts. */
function cutInto(stream: Uint8Array, reads: number[]): Uint8Array[] {
  assert.equal(reads.reduce((sum, n) => sum + n, 0), stream.byteLength, "reads sum to the input");
  const offsets: number[] = [];
  let offset = 0;
  for (const n of reads) offsets.push(offset += n);
  return cutAt(stream, offsets.slice(0, -1));
}

/**
 * The splits a stream of `length` bytes is tried with: whole, and cut once at
 * every byte when short; else cut at a few places, the ones in `extra` too.
 */
function splits(length: number, extra: number[] = []): number[][] {
  const cuts = length <= SPLIT_EVERY_BYTE_UP_TO
    ? Array.from({ length: Math.max(0, length - 1) }, (_, i) => i + 1)
    : [1, 2, 3, 4, 5, 8, 9, Math.floor(length / 2), length - 1, ...extra];
  const unique = [...new Set(cuts)].filter((cut) => cut > 0 && cut < length).sort((a, b) => a - b);
  return [[], ...unique.map((cut) => [cut])];
}

interface Format {
  lengthField: LengthFieldName;
  lengthIncludesHeader: boolean;
  maxFrameSize?: number | null;
}

function readerOptions(format: Format, bufferSize: number): FrameReaderOptions {
  const options: FrameReaderOptions = {
    bufferSize,
    lengthField: format.lengthField,
    lengthIncludesHeader: format.lengthIncludesHeader,
  };
  if (format.maxFrameSize !== undefined && format.maxFrameSize !== null) {
    options.maxFrameSize = format.maxFrameSize;
  }
  return options;
}

function encodeOptions(format: Format): Parameters<typeof encodeFrame>[1] {
  return {
    lengthField: format.lengthField,
    lengthIncludesHeader: format.lengthIncludesHeader,
    ...(format.maxFrameSize === undefined || format.maxFrameSize === null
      ? {}
      : { maxFrameSize: format.maxFrameSize }),
  };
}

/**
 * Feeds `chunks` to a reader and checks it returns exactly `payloads`, then
 * `end`: null for a clean end, else the named error (and its `part`).
 */
async function expectStream(
  format: Format,
  bufferSize: number,
  chunks: Uint8Array[],
  payloads: Uint8Array[],
  end: End,
  context: string,
): Promise<void> {
  const reader = new FrameReader(new ChunkedSource(chunks), readerOptions(format, bufferSize));
  for (const [i, expected] of payloads.entries()) {
    let payload: Uint8Array | null;
    try {
      payload = await reader.read();
    } catch (error) {
      assert.fail(`${context}: payload ${i} threw ${error}`);
    }
    assert.ok(payload !== null, `${context}: null instead of payload ${i}`);
    assertSameBytes(payload, expected, `${context}: payload ${i}`);
  }
  if (end === "clean") {
    let last: Uint8Array | null;
    try {
      last = await reader.read();
    } catch (error) {
      assert.fail(`${context}: threw ${error} instead of a clean end`);
    }
    assert.equal(
      last,
      null,
      `${context}: a payload of ${last?.byteLength} bytes instead of the end`,
    );
    return;
  }
  const [name, part] = end.split(":") as [keyof typeof ERRORS, string | undefined];
  let outcome: unknown;
  try {
    const payload = await reader.read();
    outcome = payload === null ? "a clean end" : `a payload of ${payload.byteLength} bytes`;
  } catch (error) {
    outcome = error;
  }
  assert.ok(outcome instanceof ERRORS[name], `${context}: expected ${end}, got ${outcome}`);
  if (part !== undefined) {
    assert.equal((outcome as IncompleteFrameError).part, part, `${context}: ${outcome}`);
  }
}

function describeCut(cut: number[], bufferSize: number): string {
  return `bufferSize ${bufferSize}, ${
    cut.length === 0 ? "whole" : `cut at byte ${cut.join(", ")}`
  }`;
}

const formatKey = (f: Format): string =>
  `${f.lengthField}${f.lengthIncludesHeader ? " includes-header" : ""}`;

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

Deno.test("the vector file has the documented shape", () => {
  assert.equal(vectors.version, 1);
  assert.equal(typeof vectors.description, "string");
  assert.deepEqual(
    vectors.formats.map((f) => f.lengthField).sort(),
    ["u16be", "u16le", "u32be", "u32le", "u64be", "u64le", "u8", "varint"],
  );
  for (const kind of ["frames", "refusals", "streams"] as const) {
    const names = vectors[kind].map((v) => v.name);
    assert.equal(new Set(names).size, names.length, `${kind}: names are unique`);
    assert.ok(names.length > 0, `${kind}: not empty`);
  }
});

Deno.test("every format's default limits are the vector table's", async (t) => {
  for (const format of vectors.formats) {
    const includes = format.headerBytes === null ? [false] : [false, true];
    for (const lengthIncludesHeader of includes) {
      const f = { lengthField: format.lengthField, lengthIncludesHeader };
      await t.step(formatKey(f), () => {
        const largest = format.headerBytes === null || !lengthIncludesHeader
          ? format.maxPayload
          : Math.min(2 ** (8 * format.headerBytes) - 1 - format.headerBytes, 2 ** 32 - 1);
        const reader = new FrameReader(new ChunkedSource([]), readerOptions(f, 16));
        assert.equal(reader.maxFrameSize, Math.min(DEFAULT_READER_LIMIT, largest));
      });
    }
  }
  await t.step("varint with lengthIncludesHeader is a RangeError", () => {
    const f = { lengthField: "varint" as LengthFieldName, lengthIncludesHeader: true };
    assert.throws(() => new FrameReader(new ChunkedSource([]), readerOptions(f, 16)), RangeError);
    assert.throws(() => encodeFrame(new Uint8Array(1), encodeOptions(f)), RangeError);
  });
});

Deno.test("every vector frame encodes to its exact bytes", async (t) => {
  const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  for (const v of vectors.frames.filter((v) => !v.decodeOnly)) {
    await t.step(v.name, () => {
      const payload = bytes(v.payload);
      const expected = concat(hex(v.header), payload);
      assertSameBytes(encodeFrame(payload, encodeOptions(v)), expected, "bytes payload");
      // The same payload as text, where it is text, takes the string path.
      let asText: string | undefined;
      try {
        asText = text.decode(payload);
      } catch {
        // Not UTF-8: the bytes path is the only one.
      }
      if (asText !== undefined) {
        assertSameBytes(encodeFrame(asText, encodeOptions(v)), expected, "text payload");
      }
    });
  }
});

Deno.test("every vector frame decodes back to its payload at every buffer size and split", async (t) => {
  for (const v of vectors.frames) {
    await t.step(v.name, async () => {
      const header = hex(v.header);
      const payload = bytes(v.payload);
      const stream = concat(header, payload);
      const big = stream.byteLength > SPLIT_EVERY_BYTE_UP_TO;
      for (const bufferSize of FRAME_BUFFER_SIZES) {
        // A big frame at a tiny buffer takes a read call per byte or three: whole only.
        const cuts = big && bufferSize < 16
          ? [[]]
          : splits(stream.byteLength, [header.byteLength, header.byteLength + 1]);
        for (const cut of cuts) {
          await expectStream(
            v,
            bufferSize,
            cutAt(stream, cut),
            [payload],
            "clean",
            describeCut(cut, bufferSize),
          );
        }
      }
    });
  }
});

Deno.test("every vector refusal throws its error", async (t) => {
  for (const v of vectors.refusals) {
    await t.step(v.name, () => {
      let payload: Uint8Array;
      if (v.payloadLength <= REAL_PAYLOAD_LIMIT) {
        payload = new Uint8Array(v.payloadLength);
      } else {
        // Gigabytes that are never read: an encoder refuses by the length alone,
        // before it touches (or copies) a byte.
        payload = new Uint8Array(0);
        Object.defineProperty(payload, "byteLength", { value: v.payloadLength });
        Object.defineProperty(payload, "length", { value: v.payloadLength });
      }
      assert.throws(
        () => encodeFrame(payload, encodeOptions(v)),
        (error: unknown) => {
          assert.ok(error instanceof ERRORS[v.error], `expected ${v.error}, got ${error}`);
          return true;
        },
      );
    });
  }
});

Deno.test("every vector stream decodes to its payloads and its end, split at every byte", async (t) => {
  for (const v of vectors.streams) {
    await t.step(v.name, async () => {
      const stream = concat(...v.input.map(bytes));
      const payloads = v.payloads.map(bytes);
      for (const bufferSize of STREAM_BUFFER_SIZES) {
        if (v.reads !== null) {
          await expectStream(
            v,
            bufferSize,
            cutInto(stream, v.reads),
            payloads,
            v.end,
            `bufferSize ${bufferSize}, reads ${JSON.stringify(v.reads)}`,
          );
          continue;
        }
        const big = stream.byteLength > SPLIT_EVERY_BYTE_UP_TO;
        const cuts = big && bufferSize < 16 ? [[]] : splits(stream.byteLength);
        for (const cut of cuts) {
          await expectStream(
            v,
            bufferSize,
            cutAt(stream, cut),
            payloads,
            v.end,
            describeCut(cut, bufferSize),
          );
        }
      }
    });
  }
});
