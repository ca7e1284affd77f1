// Copyright 2026 the buffered-framing authors. MIT license.
// The length field: writing it, reading it, and checking the length it
// declares, for every named format. Each rule is written once here; every
// encoder, writer and reader calls these. A reader or writer holds one
// LengthField for its life, so each call site sees one class and V8 inlines it.

import { DEFAULT_MAX_FRAME_SIZE, LENGTH_FIELDS, MAX_FRAME_SIZE_LIMIT } from "./constants.ts";
import { CorruptFrameError, FrameTooLargeError } from "./errors.ts";
import type { FrameFormatOptions, LengthFieldName } from "./types.ts";

/** Longest varint a length up to 2^32 − 1 needs: protobuf's varint32 bound. */
const MAX_VARINT_SIZE = 5;

/** How one named format writes and reads the header before each payload. */
export abstract class LengthField {
  /** The format's name. */
  abstract readonly name: LengthFieldName;
  /** Fewest bytes a header takes: nothing shorter can be parsed. */
  abstract readonly minHeaderSize: number;
  /** Most bytes a header takes. */
  abstract readonly maxHeaderSize: number;
  /** Largest payload the field can declare, at most 2^32 − 1, in bytes. */
  abstract readonly maxPayload: number;
  /**
   * Size of every header when it is fixed, else 0 (a varint): hot loops add
   * it without a call, and ask {@linkcode headerSizeAt} only when it is 0.
   */
  abstract readonly fixedSize: number;

  /** Bytes the header of a `length`-byte payload takes when written. */
  abstract headerSize(length: number): number;

  /** Writes the header of a `length`-byte payload at `offset`; returns its size. */
  abstract write(target: Uint8Array, offset: number, length: number): number;

  /**
   * Returns the payload length the header at `offset` declares, or -1 when
   * the `available` bytes there do not hold a whole header yet.
   *
   * @throws {FrameTooLargeError} When the header, whole or not, already
   * declares more than `maxFrameSize` where the general check could not see
   * it (a u64's high word, a varint's leading groups).
   * @throws {CorruptFrameError} When the header cannot be a valid one.
   */
  abstract read(
    bytes: Uint8Array,
    view: DataView,
    offset: number,
    available: number,
    maxFrameSize: number,
  ): number;

  /** Size of the whole header at `offset`, which {@linkcode read} has parsed. */
  abstract headerSizeAt(bytes: Uint8Array, offset: number): number;

  /** Bytes a header needs at least, given that `available` bytes were too few. */
  abstract headerNeeds(available: number): number;
}

/** A length field of 1, 2, 4 or 8 bytes, in either byte order. */
class FixedLengthField extends LengthField {
  readonly name: LengthFieldName;
  readonly minHeaderSize: number;
  readonly maxHeaderSize: number;
  readonly maxPayload: number;
  readonly fixedSize: number;
  readonly #size: 1 | 2 | 4 | 8;
  readonly #littleEndian: boolean;
  /** What the declared length counts beyond the payload: the header's size, or 0. */
  readonly #adjustment: number;

  constructor(
    name: LengthFieldName,
    size: 1 | 2 | 4 | 8,
    littleEndian: boolean,
    includesHeader: boolean,
  ) {
    super();
    this.name = name;
    this.minHeaderSize =
      this.maxHeaderSize =
      this.fixedSize =
      this.#size =
        size;
    this.#littleEndian = littleEndian;
    this.#adjustment = includesHeader ? size : 0;
    this.maxPayload = Math.min(2 ** (8 * size) - 1, MAX_FRAME_SIZE_LIMIT + this.#adjustment) -
      this.#adjustment;
  }

  headerSize(): number {
    return this.#size;
  }

  write(target: Uint8Array, offset: number, length: number): number {
    const declared = length + this.#adjustment;
    const size = this.#size;
    // Little-endian puts the low byte first. A u64 that counts its header
    // declares up to 2^32 + 7: its high word is not always 0.
    const low = declared % 2 ** 32;
    const high = (declared - low) / 2 ** 32;
    for (let i = 0; i < size; i++) {
      const significance = this.#littleEndian ? i : size - 1 - i;
      target[offset + i] = significance < 4
        ? low >>> (8 * significance)
        : high >>> (8 * (significance - 4));
    }
    return size;
  }

  read(
    bytes: Uint8Array,
    view: DataView,
    offset: number,
    available: number,
    maxFrameSize: number,
  ): number {
    const size = this.#size;
    if (available < size) return -1;
    const littleEndian = this.#littleEndian;
    let declared: number;
    if (size === 4) {
      declared = view.getUint32(offset, littleEndian);
    } else if (size === 2) {
      declared = view.getUint16(offset, littleEndian);
    } else if (size === 1) {
      declared = bytes[offset];
    } else {
      const high = view.getUint32(littleEndian ? offset + 4 : offset, littleEndian);
      const low = view.getUint32(littleEndian ? offset : offset + 4, littleEndian);
      declared = high * 2 ** 32 + low;
      // Past 2^32 − 1 no limit allows the payload: refused before it could
      // overflow anything.
      if (declared - this.#adjustment > MAX_FRAME_SIZE_LIMIT) {
        const length = declared - this.#adjustment;
        throw new FrameTooLargeError(length, maxFrameSize, length <= Number.MAX_SAFE_INTEGER);
      }
    }
    if (declared < this.#adjustment) {
      throw new CorruptFrameError("length-below-header", bytes.subarray(offset, offset + size));
    }
    return declared - this.#adjustment;
  }

  headerSizeAt(): number {
    return this.#size;
  }

  headerNeeds(): number {
    return this.#size;
  }
}

/**
 * Writes `length` as the default format's header, 4 bytes big-endian: a
 * plain function, which V8 inlines where a per-frame loop calls it.
 */
export function writeU32BE(target: Uint8Array, offset: number, length: number): void {
  target[offset] = length >>> 24;
  target[offset + 1] = length >>> 16;
  target[offset + 2] = length >>> 8;
  target[offset + 3] = length;
}

/**
 * The default format on its own: a 4-byte big-endian length of the payload
 * alone. Every frame of the default format passes through these two methods,
 * so they take no branch on width, order or adjustment.
 */
class U32BELengthField extends FixedLengthField {
  constructor() {
    super("u32be", 4, false, false);
  }

  override write(target: Uint8Array, offset: number, length: number): number {
    writeU32BE(target, offset, length);
    return 4;
  }

  override read(_bytes: Uint8Array, view: DataView, offset: number, available: number): number {
    return available < 4 ? -1 : view.getUint32(offset);
  }
}

/** Unsigned LEB128, as protobuf delimits messages: 7 bits a byte, low group first. */
class VarintLengthField extends LengthField {
  readonly name: LengthFieldName = "varint";
  readonly minHeaderSize = 1;
  readonly maxHeaderSize = MAX_VARINT_SIZE;
  readonly maxPayload = MAX_FRAME_SIZE_LIMIT;
  readonly fixedSize = 0;

  headerSize(length: number): number {
    return length < 0x80
      ? 1
      : length < 0x4000
      ? 2
      : length < 0x20_0000
      ? 3
      : length < 0x1000_0000
      ? 4
      : 5;
  }

  write(target: Uint8Array, offset: number, length: number): number {
    let at = offset;
    while (length >= 0x80) {
      target[at++] = (length & 0x7f) | 0x80;
      length >>>= 7;
    }
    target[at++] = length;
    return at - offset;
  }

  read(
    bytes: Uint8Array,
    _view: DataView,
    offset: number,
    available: number,
    maxFrameSize: number,
  ): number {
    const end = Math.min(available, MAX_VARINT_SIZE);
    let value = 0;
    let scale = 1;
    for (let i = 0; i < end; i++) {
      const byte = bytes[offset + i];
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (value > MAX_FRAME_SIZE_LIMIT) throw this.#corrupt(bytes, offset, i + 1);
        return value;
      }
      if (i === MAX_VARINT_SIZE - 1) throw this.#corrupt(bytes, offset, i + 1);
      // Later groups only add: a prefix already over the limit is refused now,
      // before the rest of the header is waited for (netty#17549's lesson:
      // never sit on a varint that cannot end well).
      if (value > maxFrameSize) throw new FrameTooLargeError(value, maxFrameSize, false);
      scale *= 0x80;
    }
    return -1;
  }

  #corrupt(bytes: Uint8Array, offset: number, size: number): CorruptFrameError {
    return new CorruptFrameError("varint-too-long", bytes.subarray(offset, offset + size));
  }

  headerSizeAt(bytes: Uint8Array, offset: number): number {
    let size = 1;
    while (bytes[offset + size - 1] >= 0x80) size++;
    return size;
  }

  headerNeeds(available: number): number {
    return available + 1;
  }
}

/** Each fixed-width format's size in bytes and byte order. */
const FIXED_WIDTHS: ReadonlyArray<[LengthFieldName, 1 | 2 | 4 | 8, boolean]> = [
  ["u32be", 4, false],
  ["u32le", 4, true],
  ["u16be", 2, false],
  ["u16le", 2, true],
  ["u8", 1, false],
  ["u64be", 8, false],
  ["u64le", 8, true],
];

/** Every format, built once: `name` for the plain one, `name+` for the header-counting one. */
const LENGTH_FIELD_CODECS = new Map<string, LengthField>([["varint", new VarintLengthField()]]);
for (const [name, size, littleEndian] of FIXED_WIDTHS) {
  const plain = name === "u32be"
    ? new U32BELengthField()
    : new FixedLengthField(name, size, littleEndian, false);
  LENGTH_FIELD_CODECS.set(name, plain);
  LENGTH_FIELD_CODECS.set(`${name}+`, new FixedLengthField(name, size, littleEndian, true));
}

/** A format with its limit resolved: what every reader and writer keeps. */
export interface FrameFormat {
  readonly lengthField: LengthField;
  readonly maxFrameSize: number;
}

/** The default format's codec: hot loops may test for it and read its header inline. */
export const DEFAULT_LENGTH_FIELD = LENGTH_FIELD_CODECS.get("u32be") as LengthField;
const DEFAULT_READING: FrameFormat = Object.freeze({
  lengthField: DEFAULT_LENGTH_FIELD,
  maxFrameSize: DEFAULT_MAX_FRAME_SIZE,
});
const DEFAULT_WRITING: FrameFormat = Object.freeze({
  lengthField: DEFAULT_LENGTH_FIELD,
  maxFrameSize: MAX_FRAME_SIZE_LIMIT,
});

/**
 * Resolves and checks the format options: the one check of `lengthField`,
 * `lengthIncludesHeader` and `maxFrameSize` for every class and function
 * that takes them. `maxFrameSize` defaults to what the field can declare, or
 * for readers (`reading`) to at most {@linkcode DEFAULT_MAX_FRAME_SIZE}.
 *
 * @throws {RangeError} For an unknown name, `lengthIncludesHeader` with
 * `"varint"`, or a `maxFrameSize` that is not an integer from 0 to what the
 * field can declare.
 * @throws {TypeError} When `lengthIncludesHeader` is not a boolean.
 */
export function frameFormat(
  options: FrameFormatOptions | undefined,
  reading: boolean,
): FrameFormat {
  if (options === undefined) return reading ? DEFAULT_READING : DEFAULT_WRITING;
  const name = options.lengthField === undefined ? "u32be" : options.lengthField;
  const includesHeader = options.lengthIncludesHeader === undefined
    ? false
    : options.lengthIncludesHeader;
  if (typeof includesHeader !== "boolean") {
    throw new TypeError(`Invalid lengthIncludesHeader: must be a boolean, got ${includesHeader}`);
  }
  const known = (LENGTH_FIELDS as readonly unknown[]).includes(name);
  const lengthField = known
    ? LENGTH_FIELD_CODECS.get(includesHeader ? `${name}+` : name)
    : undefined;
  if (lengthField === undefined) {
    if (known) {
      throw new RangeError(
        'Invalid lengthIncludesHeader with lengthField "varint": only fixed-width length fields can count their own header',
      );
    }
    throw new RangeError(
      `Invalid lengthField: ${JSON.stringify(name)}; expected one of ${LENGTH_FIELDS.join(", ")}`,
    );
  }
  const limit = lengthField.maxPayload;
  const value = options?.maxFrameSize;
  if (value === undefined) {
    return { lengthField, maxFrameSize: reading ? Math.min(DEFAULT_MAX_FRAME_SIZE, limit) : limit };
  }
  if (!Number.isInteger(value) || value < 0 || value > limit) {
    const field = `the "${name}" length field${includesHeader ? " counting its header" : ""}`;
    throw new RangeError(
      `Invalid maxFrameSize: must be an integer from 0 to ${limit} (the most ${field} can declare), got ${value}`,
    );
  }
  return { lengthField, maxFrameSize: value };
}

/**
 * Returns `length` when `maxFrameSize` allows a payload that long.
 *
 * @throws {FrameTooLargeError} When `length` exceeds `maxFrameSize`.
 */
export function checkFrameSize(length: number, maxFrameSize: number): number {
  if (length > maxFrameSize) throw new FrameTooLargeError(length, maxFrameSize);
  return length;
}
