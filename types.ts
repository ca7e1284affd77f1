// Copyright 2026 the buffered-framing authors. MIT license.
// The interfaces the framing layer reads from, writes to and is configured by.

/**
 * Anything bytes can be read from, such as a `Deno.Conn`.
 *
 * @example Deno's readers are byte sources
 * ```ts
 * import type { ByteSource } from "./framing.ts";
 *
 * const source: ByteSource = Deno.stdin; // so is every Deno.Conn
 * ```
 */
export interface ByteSource {
  /**
   * Reads up to `p.byteLength` bytes into `p`; resolves to the number of
   * bytes read, or `null` at end of stream.
   */
  read(p: Uint8Array): Promise<number | null>;
}

/**
 * Anything bytes can be written to, such as a `Deno.Conn`. A write may take
 * fewer bytes than it was given.
 *
 * @example Deno's writers are byte sinks
 * ```ts
 * import type { ByteSink } from "./framing.ts";
 *
 * const sink: ByteSink = Deno.stdout; // so is every Deno.Conn
 * ```
 */
export interface ByteSink {
  /** Writes some of `p`; resolves to the number of bytes written. */
  write(p: Uint8Array): Promise<number>;
}

/**
 * Options that bound what a frame may declare.
 *
 * @example A limit of 1 KiB
 * ```ts
 * import { encodeFrame, type FrameLimitOptions } from "./framing.ts";
 *
 * const limits: FrameLimitOptions = { maxFrameSize: 1024 };
 * const bytes = encodeFrame("small enough", limits);
 * ```
 */
export interface FrameLimitOptions {
  /**
   * Largest payload accepted, in bytes. A frame that declares more is refused
   * with a {@linkcode FrameTooLargeError} before any memory is allocated for
   * it. At most {@linkcode MAX_FRAME_SIZE_LIMIT}, the default when encoding
   * (what the header can declare); readers default to
   * {@linkcode DEFAULT_MAX_FRAME_SIZE}, 16 MiB, since they allocate what
   * peers declare.
   */
  maxFrameSize?: number;
}
