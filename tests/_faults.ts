// Copyright 2026 the buffered-framing authors. MIT license.
// Helpers for the fault, hostile-server and load tests: a log recorder that
// can be waited on, raw sockets that speak (and break) the protocol by hand,
// a seeded PRNG and random text.

import assert from "node:assert/strict";
import { BufferedClient } from "../client.ts";
import { BufferedServer, type BufferedServerOptions } from "../server.ts";
import { concat, frame, mulberry32 } from "./_bytes.ts";
import { FIXED_WIDTHS, type Format, frameIn, headerFor, lengthFieldBytes } from "./_formats.ts";
import { reasonOf } from "./_helpers.ts";

export { concat, frame, mulberry32 };

export const HOST = "127.0.0.1";

/**
 * Upper bound on any wait in these tests. It is never what a test waits
 * for: it only turns a hang (a bug) into a failure that names what was
 * awaited, so that every test stops by itself.
 */
export const GUARD_MS = 20_000;

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Rejects with a message naming `what` if `promise` has not settled within `ms`. */
export async function guard<T>(
  promise: Promise<T>,
  what: string,
  ms: number = GUARD_MS,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Gave up after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The demo service's answer: the text minus its first 10 code points, as
 * Python's `s[10:]`. Counted here on UTF-16 (a surrogate pair is one code
 * point), independently of the server, which counts on UTF-8 bytes.
 */
export function expectedReply(message: string): string {
  let index = 0;
  for (let skipped = 0; skipped < 10 && index < message.length; skipped++) {
    const unit = message.charCodeAt(index);
    const low = message.charCodeAt(index + 1);
    const pair = unit >= 0xd800 && unit <= 0xdbff && low >= 0xdc00 && low <= 0xdfff;
    index += pair ? 2 : 1;
  }
  return message.slice(index);
}

/** An integer in `[min, max]` from `rng`. */
export function randomInt(rng: () => number, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

/** `length` random bytes from `rng`. */
export function randomBytes(rng: () => number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(rng() * 256);
  return bytes;
}

/** Code points of 1, 2, 3 and 4 UTF-8 bytes (no lone surrogates). */
const ALPHABET = Array.from("abcdefghijklmnopqrstuvwxyz0123456789 .,;-éñøßΩЖ€中✓語😀𝄞🎉");

/** Random text of at most `maxBytes` UTF-8 bytes, with multi-byte characters. */
export function randomText(rng: () => number, maxBytes: number): string {
  const target = randomInt(rng, 0, maxBytes);
  let text = "";
  let bytes = 0;
  while (true) {
    const char = ALPHABET[Math.floor(rng() * ALPHABET.length)];
    const size = utf8Size(char);
    if (bytes + size > target) return text;
    text += char;
    bytes += size;
  }
}

function utf8Size(char: string): number {
  const code = char.codePointAt(0) ?? 0;
  return code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
}

/**
 * Random text, fast enough for load tests: slices of one random corpus of
 * the same alphabet, at a random offset, of a random UTF-8 size.
 */
export class TextCorpus {
  readonly #text: string;
  /** `#bytes[i]`: UTF-8 size of the corpus's first `i` UTF-16 units (pair ends only). */
  readonly #bytes: Uint32Array;

  constructor(rng: () => number, codePoints = 1 << 19) {
    const chars: string[] = [];
    for (let i = 0; i < codePoints; i++) chars.push(ALPHABET[Math.floor(rng() * ALPHABET.length)]);
    this.#text = chars.join("");
    this.#bytes = new Uint32Array(this.#text.length + 1);
    let total = 0;
    let unit = 0;
    for (const char of chars) {
      this.#bytes[unit] = total;
      if (char.length === 2) this.#bytes[unit + 1] = total; // never a slice boundary
      total += utf8Size(char);
      unit += char.length;
    }
    this.#bytes[unit] = total;
  }

  /**
   * A slice of at most `maxBytes` UTF-8 bytes (size uniform from 0), on code
   * point boundaries, and its UTF-8 size.
   */
  next(rng: () => number, maxBytes: number): { text: string; bytes: number } {
    const text = this.#text;
    const bytes = this.#bytes;
    const isBoundary = (i: number): boolean => {
      const unit = text.charCodeAt(i);
      return !(unit >= 0xdc00 && unit <= 0xdfff);
    };
    let start = randomInt(rng, 0, text.length - 4 * maxBytes - 2);
    if (!isBoundary(start)) start++;
    const limit = bytes[start] + randomInt(rng, 0, maxBytes);
    // Largest end with bytes[end] <= limit, on a boundary.
    let low = start;
    let high = Math.min(text.length, start + maxBytes);
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (bytes[middle] <= limit) low = middle;
      else high = middle - 1;
    }
    let end = low;
    if (end < text.length && !isBoundary(end)) end--;
    return { text: text.slice(start, end), bytes: bytes[end] - bytes[start] };
  }
}

/** Lines logged by a server, which a test can wait on as they arrive. */
export class LogRecorder {
  readonly lines: string[] = [];
  #waiters: { predicate: (line: string) => boolean; resolve: (line: string) => void }[] = [];

  /** Pass as the server's `log` option. */
  readonly log = (line: string): void => {
    this.lines.push(line);
    this.#waiters = this.#waiters.filter((waiter) => {
      if (!waiter.predicate(line)) return true;
      waiter.resolve(line);
      return false;
    });
  };

  /** Resolves with the first line (logged already or later) that matches. */
  waitFor(predicate: (line: string) => boolean, what: string): Promise<string> {
    const found = this.lines.find(predicate);
    if (found !== undefined) return Promise.resolve(found);
    return guard(
      new Promise<string>((resolve) => this.#waiters.push({ predicate, resolve })),
      `${what}; log so far:\n${this.lines.join("\n")}`,
    );
  }

  /** The `<peer> disconnected: <reason>` lines of `peer`. */
  disconnects(peer: string): string[] {
    return this.lines.filter((line) => line.startsWith(`${peer} disconnected: `));
  }

  /** Most connections open at once, from the connected and disconnected lines. */
  peakConnections(): number {
    let open = 0;
    let peak = 0;
    for (const line of this.lines) {
      if (line.endsWith(" connected")) peak = Math.max(peak, ++open);
      else if (line.includes(" disconnected: ")) open--;
    }
    return peak;
  }

  /** Resolves with the reason of `peer`'s disconnect line, once it is logged. */
  async disconnectReason(peer: string): Promise<string> {
    const prefix = `${peer} disconnected: `;
    const line = await this.waitFor((l) => l.startsWith(prefix), `the disconnect of ${peer}`);
    return reasonOf(line.slice(prefix.length));
  }
}

/**
 * Waits for `peer`'s disconnect line, then asserts that the server logged
 * exactly one such line, that it names the peer, and that its reason matches.
 */
export async function assertDisconnected(
  log: LogRecorder,
  peer: string,
  reason: RegExp,
  context = "",
): Promise<string> {
  const why = await log.disconnectReason(peer);
  const lines = log.disconnects(peer);
  const note = context === "" ? "" : ` (${context})`;
  assert.equal(
    lines.length,
    1,
    `one disconnect line for ${peer}${note}, got:\n${lines.join("\n")}`,
  );
  assert.match(why, reason, `reason logged for ${peer}${note}: ${JSON.stringify(why)}`);
  assert.ok(
    log.lines.includes(`${peer} connected`),
    `a connect line for ${peer}${note}; log:\n${log.lines.join("\n")}`,
  );
  return why;
}

/** A server started for one test: stop it with `await using` or {@linkcode LiveServer.stop}. */
export class LiveServer implements AsyncDisposable {
  readonly server: BufferedServer;
  readonly log = new LogRecorder();
  readonly done: Promise<void>;

  constructor(bufferSize: number, options: BufferedServerOptions) {
    this.server = new BufferedServer(HOST, 0, bufferSize, { ...options, log: this.log.log });
    this.done = this.server.start();
  }

  get port(): number {
    return this.server.addr.port;
  }

  /** Stops the server gracefully and waits until every connection is closed. */
  async stop(): Promise<void> {
    this.server.shutdown();
    await guard(this.done, "the server to stop");
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** A TCP connection to the server that the test drives byte by byte. */
export async function connectRaw(port: number): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: HOST, port });
  conn.setNoDelay(true);
  return conn;
}

/** How the server names this connection in its log: the client's own address. */
export function peerOf(conn: Deno.TcpConn): string {
  return `${conn.localAddr.hostname}:${conn.localAddr.port}`;
}

/** Closes `conn` (or a listener), ignoring one that is already closed. */
export function closeQuietly(conn: { close(): void }): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

/** A 4-byte big-endian length header, written here by hand, not by the library. */
export function header(length: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, length);
  return bytes;
}

/** Writes every byte of `bytes`. */
export async function writeAllTo(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) offset += await conn.write(bytes.subarray(offset));
}

/** Reads exactly `length` bytes, or `null` if the stream ends first. */
export async function readExactly(conn: Deno.Conn, length: number): Promise<Uint8Array | null> {
  const bytes = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const n = await conn.read(bytes.subarray(filled));
    if (n === null) return null;
    filled += n;
  }
  return bytes;
}

/** Reads one whole reply frame as text, or `null` if the stream ends first. */
export async function readReply(conn: Deno.Conn): Promise<string | null> {
  const head = await readExactly(conn, 4);
  if (head === null) return null;
  const payload = await readExactly(conn, new DataView(head.buffer).getUint32(0));
  return payload === null ? null : decoder.decode(payload);
}

/**
 * Reads until the peer closes; resolves with the bytes read and how the
 * stream ended: `"eof"` for a clean close, or the error's name (a reset).
 */
export async function readUntilClosed(
  conn: Deno.Conn,
): Promise<{ bytes: Uint8Array; end: string }> {
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(64 * 1024);
  try {
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) return { bytes: concat(...chunks), end: "eof" };
      chunks.push(buffer.slice(0, n));
    }
  } catch (error) {
    return { bytes: concat(...chunks), end: error instanceof Error ? error.name : String(error) };
  }
}

/** Decodes the complete frames at the front of `bytes`; a cut-off tail is ignored. */
export function decodeFrames(bytes: Uint8Array): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: string[] = [];
  let offset = 0;
  while (offset + 4 <= bytes.byteLength) {
    const length = view.getUint32(offset);
    if (offset + 4 + length > bytes.byteLength) break;
    out.push(decoder.decode(bytes.subarray(offset + 4, offset + 4 + length)));
    offset += 4 + length;
  }
  return out;
}

/** Message used to check that a server still answers: multi-byte, longer than 10 code points. */
export const PROBE = "0123456789héllo, wörld — 中文 😀";

/**
 * Asserts that the server on `port` still serves a new client correctly:
 * connect, send, receive the right reply, disconnect.
 */
export async function assertServesNewClient(
  port: number,
  context: string,
  format?: Format,
): Promise<void> {
  const client = await BufferedClient.connect(HOST, port, 1024, {
    receiveTimeout: GUARD_MS,
    ...format,
  });
  try {
    await client.sendMessage(PROBE);
    await client.sendMessage("short");
    assert.deepEqual(
      await client.receiveMessage(),
      [expectedReply(PROBE), true],
      `a new client is served after ${context}`,
    );
    assert.deepEqual(await client.receiveMessage(), ["", true], `second reply after ${context}`);
  } finally {
    client.shutdown();
  }
}

/**
 * Open file descriptors of this process: the entries of /proc/PID/fd, or
 * `undefined` where there is no /proc. (Deno.resources() is gone in Deno 2.)
 * Deno lets only --allow-all read /proc/self, so without it the listing comes
 * from a child `ls -l` (with --allow-run), and the plumbing of that child,
 * which comes and goes while it runs (pipes, /dev/null, a pidfd), is left out
 * of the count: sockets, files, epoll and event fds are what is counted.
 */
export async function openFileDescriptors(): Promise<number | undefined> {
  const dir = `/proc/${Deno.pid}/fd`;
  try {
    let count = 0;
    for (const _ of Deno.readDirSync(dir)) count++;
    return count;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotCapable)) return undefined;
  }
  try {
    const { success, stdout } = await new Deno.Command("ls", {
      args: ["-l", dir],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
      env: { LC_ALL: "C" },
    }).output();
    if (!success) return undefined;
    return new TextDecoder().decode(stdout).split("\n")
      .filter((line) => line.includes(" -> "))
      .filter((line) => !/ -> (pipe:|\/dev\/null$|anon_inode:\[pidfd\])/.test(line))
      .length;
  } catch {
    return undefined;
  }
}

/** How a stream of frames ends, as the protocol reads it. */
export type StreamEnd =
  | { kind: "clean" }
  | { kind: "too large"; length: number }
  | { kind: "incomplete"; part: "header" | "payload"; expected: number; received: number }
  | { kind: "not UTF-8"; length: number };

/**
 * A reference reading of `bytes` followed by end of stream, written from the
 * protocol's definition: the text payloads before the first fault, and how
 * the stream ends.
 */
export function modelStream(
  bytes: Uint8Array,
  maxFrameSize: number,
): { payloads: string[]; end: StreamEnd } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const payloads: string[] = [];
  let offset = 0;
  while (true) {
    const left = bytes.byteLength - offset;
    if (left === 0) return { payloads, end: { kind: "clean" } };
    if (left < 4) {
      return {
        payloads,
        end: { kind: "incomplete", part: "header", expected: 4, received: left },
      };
    }
    const length = view.getUint32(offset);
    if (length > maxFrameSize) return { payloads, end: { kind: "too large", length } };
    if (left - 4 < length) {
      return {
        payloads,
        end: { kind: "incomplete", part: "payload", expected: length, received: left - 4 },
      };
    }
    try {
      payloads.push(decoder.decode(bytes.subarray(offset + 4, offset + 4 + length)));
    } catch {
      return { payloads, end: { kind: "not UTF-8", length } };
    }
    offset += 4 + length;
  }
}

/**
 * Seeded garbage: pure noise, or a mix of good frames, frames of random
 * bytes, headers above `maxFrameSize` and noise, sometimes cut off.
 */
export function garbage(rng: () => number, maxFrameSize: number): Uint8Array {
  if (rng() < 0.3) return randomBytes(rng, randomInt(rng, 1, 4096));
  const parts: Uint8Array[] = [];
  for (let i = randomInt(rng, 1, 5); i > 0; i--) {
    const kind = rng();
    if (kind < 0.4) {
      parts.push(frame(randomText(rng, Math.min(600, maxFrameSize))));
    } else if (kind < 0.6) {
      const length = randomInt(rng, 0, Math.min(40, maxFrameSize));
      parts.push(concat(header(length), randomBytes(rng, length)));
    } else if (kind < 0.75) {
      parts.push(
        concat(header(randomInt(rng, maxFrameSize + 1, 0xffff_ffff)), randomBytes(rng, 8)),
      );
    } else {
      parts.push(randomBytes(rng, randomInt(rng, 1, 64)));
    }
  }
  const bytes = concat(...parts);
  return rng() < 0.3 ? bytes.subarray(0, randomInt(rng, 1, bytes.byteLength)) : bytes;
}

// --- Every length-field format ---------------------------------------------
// The same reference reading and garbage for any format, with the header
// decoded here by hand (BigInt, so that no width can overflow), from the
// rules of README "Formats" and errors.ts, not from the library's code.

/** The most any format lets a payload declare: 2^32 - 1. */
const LARGEST_LENGTH = 2n ** 32n - 1n;
/** Past this a length is only approximately a JavaScript number. */
const LARGEST_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

/** How a stream of frames in some format ends, as the protocol reads it. */
export type FormatStreamEnd =
  | { kind: "clean" }
  | { kind: "incomplete"; part: "header" | "payload"; expected: number; received: number }
  | { kind: "not UTF-8"; length: number }
  | {
    kind: "too large";
    /** The declared payload length; for `"at least"`, the value of the groups read so far. */
    length: bigint;
    /**
     * `"exact"`: the whole length, exactly; `"at least"`: a varint refused on
     * its leading groups, before its end; `"approximately"`: a u64 length past
     * 2^53 - 1, which the error can state only as a nearby number ("at least").
     */
    bound: "exact" | "at least" | "approximately";
  }
  | { kind: "corrupt"; reason: "length-below-header" | "varint-too-long"; header: Uint8Array };

/** A length field read by hand: its size and the payload length it declares, or how the stream ends there. */
type LengthFieldReading = { size: number; length: number } | { end: FormatStreamEnd };

function readLengthField(
  format: Format,
  bytes: Uint8Array,
  offset: number,
  maxFrameSize: number,
): LengthFieldReading {
  const left = bytes.byteLength - offset;
  const limit = BigInt(maxFrameSize);
  if (format.lengthField === "varint") {
    // Unsigned LEB128: 7 bits a byte, low group first, high bit = more follow.
    let value = 0n;
    for (let size = 1;; size++) {
      if (size > left) {
        // A varint's size is known only at its end: it needed one byte more.
        return { end: { kind: "incomplete", part: "header", expected: size, received: size - 1 } };
      }
      const byte = bytes[offset + size - 1];
      value += BigInt(byte & 0x7f) << BigInt(7 * (size - 1));
      const header = bytes.slice(offset, offset + size);
      if (byte < 0x80) {
        if (value > LARGEST_LENGTH) {
          return { end: { kind: "corrupt", reason: "varint-too-long", header } };
        }
        if (value > limit) return { end: { kind: "too large", length: value, bound: "exact" } };
        return { size, length: Number(value) };
      }
      // More groups follow: a 5th byte that says so is one byte too many, and
      // groups that already exceed the limit are refused without the rest.
      if (size === 5) return { end: { kind: "corrupt", reason: "varint-too-long", header } };
      if (value > limit) return { end: { kind: "too large", length: value, bound: "at least" } };
    }
  }
  const width = FIXED_WIDTHS[format.lengthField];
  if (left < width) {
    return { end: { kind: "incomplete", part: "header", expected: width, received: left } };
  }
  const littleEndian = format.lengthField.endsWith("le");
  let declared = 0n;
  for (let i = 0; i < width; i++) {
    // Most significant byte first.
    declared = declared * 256n + BigInt(bytes[offset + (littleEndian ? width - 1 - i : i)]);
  }
  const counted = format.lengthIncludesHeader ? BigInt(width) : 0n;
  if (declared < counted) {
    return {
      end: {
        kind: "corrupt",
        reason: "length-below-header",
        header: bytes.slice(offset, offset + width),
      },
    };
  }
  const length = declared - counted;
  if (length > limit) {
    return {
      end: { kind: "too large", length, bound: length > LARGEST_EXACT ? "approximately" : "exact" },
    };
  }
  return { size: width, length: Number(length) };
}

/**
 * A reference reading of `bytes` in `format` followed by end of stream: the
 * text payloads before the first fault, and how the stream ends.
 */
export function modelFormatStream(
  format: Format,
  bytes: Uint8Array,
  maxFrameSize: number,
): { payloads: string[]; end: FormatStreamEnd } {
  const payloads: string[] = [];
  let offset = 0;
  while (true) {
    if (offset === bytes.byteLength) return { payloads, end: { kind: "clean" } };
    const reading = readLengthField(format, bytes, offset, maxFrameSize);
    if ("end" in reading) return { payloads, end: reading.end };
    const { size, length } = reading;
    const left = bytes.byteLength - offset - size;
    if (left < length) {
      return {
        payloads,
        end: { kind: "incomplete", part: "payload", expected: length, received: left },
      };
    }
    try {
      payloads.push(decoder.decode(bytes.subarray(offset + size, offset + size + length)));
    } catch {
      return { payloads, end: { kind: "not UTF-8", length } };
    }
    offset += size + length;
  }
}

/** Decodes the complete frames in `format` at the front of `bytes`; a cut-off tail is ignored. */
export function decodeFramesIn(format: Format, bytes: Uint8Array): string[] {
  const out: string[] = [];
  let offset = 0;
  while (offset < bytes.byteLength) {
    const reading = readLengthField(format, bytes, offset, Number(LARGEST_LENGTH));
    if ("end" in reading || offset + reading.size + reading.length > bytes.byteLength) break;
    out.push(
      decoder.decode(bytes.subarray(offset + reading.size, offset + reading.size + reading.length)),
    );
    offset += reading.size + reading.length;
  }
  return out;
}

/** Lowercase hex of `bytes`, space-separated. */
export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join(" ");
}

/** A random unsigned 64-bit value. */
function randomU64(rng: () => number): bigint {
  return (BigInt(randomInt(rng, 0, 0xffff_ffff)) << 32n) | BigInt(randomInt(rng, 0, 0xffff_ffff));
}

/** The varint of `value` in exactly `size` bytes, zero groups padding it: non-minimal, still valid. */
function paddedVarint(value: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    const group = Math.floor(value / 2 ** (7 * i)) & 0x7f;
    out[i] = i < size - 1 ? group | 0x80 : group;
  }
  return out;
}

/** A length field declaring more than `maxFrameSize`, whole. */
function oversizedHeader(rng: () => number, format: Format, maxFrameSize: number): Uint8Array {
  if (format.lengthField === "varint") {
    const pick = rng();
    // Two bytes: the first group alone is within the limit, so the whole
    // varint is read and refused with its exact length.
    if (pick < 0.4) {
      return lengthFieldBytes(format, BigInt(randomInt(rng, maxFrameSize + 1, 0x3fff)));
    }
    // Five bytes, the first four groups within the limit, a 5th group of 1 to
    // 15: up to 2^32 - 1, refused whole (16 and up is corrupt).
    if (pick < 0.6) {
      return new Uint8Array([randomInt(rng, 0x80, 0xff), 0x80, 0x80, 0x80, randomInt(rng, 1, 15)]);
    }
    // Anything up to 2^32 - 1: mostly refused on its leading groups.
    return lengthFieldBytes(format, BigInt(randomInt(rng, maxFrameSize + 1, 0xffff_ffff)));
  }
  const width = FIXED_WIDTHS[format.lengthField];
  const counted = format.lengthIncludesHeader ? width : 0;
  if (width === 8) {
    const pick = rng();
    if (pick < 0.25) {
      // A nonzero high word with a length still below 2^53.
      const high = BigInt(randomInt(rng, 1, 0x1f_ffff));
      return lengthFieldBytes(format, (high << 32n) | BigInt(randomInt(rng, 0, 0xffff_ffff)));
    }
    if (pick < 0.5) return lengthFieldBytes(format, randomU64(rng));
    // 2^32 to 2^32 + 7: a high word of 1, which counting the header brings back below 2^32.
    if (pick < 0.65) return lengthFieldBytes(format, 2n ** 32n + BigInt(randomInt(rng, 0, 7)));
  }
  const largest = Math.min(2 ** (8 * width) - 1, 0xffff_ffff);
  return lengthFieldBytes(format, BigInt(randomInt(rng, maxFrameSize + 1 + counted, largest)));
}

/** A length field that cannot be valid in `format`, or if none can, one declaring too much. */
function corruptHeader(rng: () => number, format: Format, maxFrameSize: number): Uint8Array {
  if (format.lengthField === "varint") {
    const first = randomInt(rng, 0x80, 0xff); // one group within any limit of at least 127
    // A 5th byte with its high bit set: more than 5 bytes.
    if (rng() < 0.5) return new Uint8Array([first, 0x80, 0x80, 0x80, randomInt(rng, 0x80, 0xff)]);
    // A 5th group of 16 or more: above 2^32 - 1.
    return new Uint8Array([first, 0x80, 0x80, 0x80, randomInt(rng, 16, 0x7f)]);
  }
  const width = FIXED_WIDTHS[format.lengthField];
  if (format.lengthIncludesHeader) {
    // Counting its header, a length must be at least the header's size.
    return lengthFieldBytes(format, BigInt(randomInt(rng, 0, width - 1)));
  }
  // A u64 whose high word is not 0: above 2^32 - 1, refused whatever the limit.
  if (width === 8) return lengthFieldBytes(format, randomU64(rng) | (1n << 32n));
  return oversizedHeader(rng, format, maxFrameSize);
}

/**
 * The start of a header that the stream ends inside: for a varint, mostly
 * leading groups that already exceed `maxFrameSize` (which must be refused
 * without waiting for the rest), else groups within it; for a fixed width,
 * fewer bytes than it takes.
 */
function headerStart(rng: () => number, format: Format, maxFrameSize: number): Uint8Array {
  if (format.lengthField === "varint") {
    if (rng() < 0.4) {
      // One group of at most 127, then zero groups: the end of stream decides.
      const zeros = new Array(randomInt(rng, 0, 3)).fill(0x80);
      return new Uint8Array([randomInt(rng, 0x80, 0xff), ...zeros]);
    }
    const out: number[] = [];
    let value = 0;
    while (value <= maxFrameSize) {
      const group = out.length === 3 ? 0x7f : randomInt(rng, 0, 0x7f);
      value += group * 2 ** (7 * out.length);
      out.push(group | 0x80);
    }
    return new Uint8Array(out);
  }
  return randomBytes(rng, randomInt(rng, 1, FIXED_WIDTHS[format.lengthField] - 1));
}

/**
 * Seeded garbage in `format`: pure noise, or a mix of good frames (some with
 * non-minimal varints), frames of random bytes, lengths above `maxFrameSize`,
 * length fields that cannot be valid, and noise; sometimes cut off, or ending
 * inside a header.
 */
export function formatGarbage(rng: () => number, format: Format, maxFrameSize: number): Uint8Array {
  if (rng() < 0.3) return randomBytes(rng, randomInt(rng, 1, 4096));
  const parts: Uint8Array[] = [];
  for (let i = randomInt(rng, 1, 5); i > 0; i--) {
    const kind = rng();
    if (kind < 0.35) {
      const payload = new TextEncoder().encode(randomText(rng, Math.min(600, maxFrameSize)));
      if (format.lengthField === "varint" && rng() < 0.3) {
        const minimal = headerFor(format, payload.byteLength).byteLength;
        parts.push(concat(paddedVarint(payload.byteLength, randomInt(rng, minimal, 5)), payload));
      } else {
        parts.push(frameIn(format, payload));
      }
    } else if (kind < 0.5) {
      parts.push(frameIn(format, randomBytes(rng, randomInt(rng, 0, Math.min(40, maxFrameSize)))));
    } else if (kind < 0.62) {
      parts.push(concat(oversizedHeader(rng, format, maxFrameSize), randomBytes(rng, 8)));
    } else if (kind < 0.74) {
      parts.push(concat(corruptHeader(rng, format, maxFrameSize), randomBytes(rng, 8)));
    } else if (kind < 0.84) {
      parts.push(headerStart(rng, format, maxFrameSize));
      break; // the stream ends inside this header
    } else {
      parts.push(randomBytes(rng, randomInt(rng, 1, 64)));
    }
  }
  const bytes = concat(...parts);
  return rng() < 0.3 ? bytes.subarray(0, randomInt(rng, 1, bytes.byteLength)) : bytes;
}

/** `maxFrameSize` for the garbage tests in `format`: below what the field can declare. */
export function garbageLimit(format: Format): number {
  return format.lengthField === "u8" ? 200 : 1000;
}

/** The seed for seeded random tests: `FAULTS_SEED` if set, else the clock. */
export function testSeed(): number {
  const fromEnv = Deno.env.get("FAULTS_SEED");
  return fromEnv === undefined ? Date.now() % 0x1_0000_0000 : Number(fromEnv);
}

/**
 * Makes a peer that resets its connection in the middle of a frame, and
 * resolves with the peer's address as the server logs it.
 *
 * Deno has no SO_LINGER, and its `close()` calls `shutdown(SHUT_WR)` before
 * `close(2)`: the server reads that FIN as a clean end of stream before the
 * RST that follows it. So the peer is a child Deno process: it sends a whole
 * frame, reads only the 4-byte header of the 204-byte reply (the other 200
 * bytes, which came in one segment on loopback, stay unread in its receive
 * buffer), sends half of a second frame, and is then killed with SIGKILL.
 * The kernel closes a socket with unread data by sending an RST and no FIN:
 * the abortive close.
 */
export async function resetMidFrame(port: number): Promise<string> {
  const code = `
    const conn = await Deno.connect({ hostname: "${HOST}", port: ${port} });
    const send = async (bytes: number[]) => {
      const data = new Uint8Array(bytes);
      for (let n = 0; n < data.length;) n += await conn.write(data.subarray(n));
    };
    await send([0, 0, 0, 210, ...new TextEncoder().encode("0123456789" + "r".repeat(200))]);
    const head = new Uint8Array(4);
    for (let n = 0; n < 4;) n += (await conn.read(head.subarray(n))) ?? 4;
    await send([0, 0, 1, 244, ...new Array(20).fill(0x63)]);
    console.log(conn.localAddr.port);
    await Deno.stdin.read(new Uint8Array(1)); // until killed
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", "--ext=ts", code],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const errors = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  try {
    while (!out.includes("\n")) {
      const { value, done } = await guard(reader.read(), "the resetting peer to be ready");
      if (done) break;
      out += value;
    }
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // It has already exited.
    }
    while (!(await reader.read()).done) { /* drain */ }
    await child.stdin.close().catch(() => {});
    await child.status;
  }
  const childPort = Number.parseInt(out, 10);
  if (!Number.isInteger(childPort)) {
    throw new Error(`The resetting peer failed: ${out}${await errors}`);
  }
  await errors;
  return `${HOST}:${childPort}`;
}

/**
 * A one-connection server that plays `script` on the first connection, then
 * closes. Disposing it waits for the script, whose assertions count.
 */
export class ScriptedServer implements AsyncDisposable {
  readonly #listener: Deno.TcpListener;
  #disposing = false;
  readonly done: Promise<void>;

  constructor(script: (conn: Deno.TcpConn) => Promise<void>) {
    const listener = Deno.listen({ hostname: HOST, port: 0 });
    this.#listener = listener;
    this.done = (async (): Promise<void> => {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (this.#disposing) return; // no client came: the test failed before connecting
        throw error;
      } finally {
        closeQuietly(listener);
      }
      try {
        await script(conn);
      } finally {
        closeQuietly(conn);
      }
    })();
  }

  get port(): number {
    return this.#listener.addr.port;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#disposing = true;
    closeQuietly(this.#listener);
    await guard(this.done, "the scripted server to finish");
  }
}
