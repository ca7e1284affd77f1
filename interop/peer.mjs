#!/usr/bin/env node
// Copyright 2026 the buffered-framing authors. MIT license.
// deno-lint-ignore-file explicit-function-return-type -- plain JavaScript for node: no type annotations
// An independent peer of the length-prefixed protocol on Node.js's `net` and
// `Buffer`, run with the machine's `node` (no Deno, no dependencies).
//
//   node peer.mjs server [FORMAT] [--max-frame-size N]
//       Binds 127.0.0.1, port 0, prints "listening on 127.0.0.1:PORT", answers
//       each frame with its text minus the first 10 characters (code points),
//       until its standard input ends (or SIGTERM). Text that is not UTF-8
//       ends the connection.
//   node peer.mjs client --port PORT [FORMAT] (--messages FILE | MESSAGE...)
//       Sends every message pipelined while reading the replies, checks each
//       reply byte for byte, prints "N replies match" and exits 0; exits 1
//       naming the first difference otherwise.
//
// FORMAT: --length-field NAME (u32be, the default, u32le, u16be, u16le, u8,
// u64be, u64le, varint) and --length-includes-header (fixed widths only).
// A messages FILE is JSON, as for peer.py: {"messages": [M...], "replies":
// [M...]} or a list of M; M is a string (sent as UTF-8), {"hex": "..."} or
// {"fill": "61", "count": N}. Without "replies", the expected reply is this
// peer's own rule.

import net from "node:net";
import process from "node:process";
import { readFileSync } from "node:fs";

const WIDTHS = {
  u8: 1,
  u16be: 2,
  u16le: 2,
  u32be: 4,
  u32le: 4,
  u64be: 8,
  u64le: 8,
  varint: 0,
};
const SKIPPED = 10;
const DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;
const LARGEST = 2 ** 32 - 1;

function fail(message, status = 2) {
  process.stderr.write(`peer.mjs: ${message}\n`);
  process.exit(status);
}

function log(message) {
  process.stderr.write(`peer.mjs: ${message}\n`);
}

/** A length field: its width (0 for varint), byte order, and whether it counts itself. */
class Format {
  constructor(name, includesHeader, maxFrameSize) {
    if (!(name in WIDTHS)) fail(`unknown --length-field ${name}: one of ${Object.keys(WIDTHS)}`);
    this.name = name;
    this.width = WIDTHS[name];
    this.little = name.endsWith("le");
    if (includesHeader && this.width === 0) {
      fail("--length-includes-header is for the fixed widths only");
    }
    this.includesHeader = includesHeader;
    // The default limit, as the library's readers have it: 16 MiB, or less for a smaller field.
    this.maxFrameSize = maxFrameSize ?? Math.min(DEFAULT_MAX_FRAME_SIZE, this.largestPayload());
  }

  /** The whole frame of `payload`. */
  encode(payload) {
    if (payload.length > this.largestPayload()) {
      throw new RangeError(`a payload of ${payload.length} bytes does not fit ${this.name}`);
    }
    const length = BigInt(payload.length) +
      BigInt(this.includesHeader ? this.width : 0);
    let header;
    if (this.width === 0) {
      const bytes = [];
      let rest = length;
      do {
        const low = Number(rest & 0x7fn);
        rest >>= 7n;
        bytes.push(rest > 0n ? low | 0x80 : low);
      } while (rest > 0n);
      header = Buffer.from(bytes);
    } else {
      header = Buffer.alloc(this.width);
      if (this.width === 8) {
        if (this.little) header.writeBigUInt64LE(length);
        else header.writeBigUInt64BE(length);
      } else if (this.little) {
        header.writeUIntLE(Number(length), 0, this.width);
      } else {
        header.writeUIntBE(Number(length), 0, this.width);
      }
    }
    return Buffer.concat([header, payload]);
  }

  /** The largest payload the field can declare, capped at 2^32 - 1 as the library's are. */
  largestPayload() {
    if (this.width === 0) return LARGEST;
    const field = 2 ** (8 * this.width) - 1 - (this.includesHeader ? this.width : 0);
    return Math.min(field, LARGEST);
  }

  /**
   * Parses the frame at the start of `buffer`: `undefined` while it is not
   * all there, else `[payload, frameLength]`. Throws on a refused length.
   */
  parse(buffer) {
    let declared;
    let headerLength;
    if (this.width === 0) {
      // protobuf's varint32: at most 5 bytes, at most 2^32 - 1.
      declared = 0;
      let index = 0;
      for (;; index++) {
        if (index >= buffer.length) {
          this.check(declared); // the groups so far are a lower bound
          return undefined;
        }
        const byte = buffer[index];
        if (index === 4) {
          if (byte >= 0x80) throw new RangeError("a varint length of more than 5 bytes");
          declared += byte * 2 ** 28;
          if (declared > LARGEST) throw new RangeError(`a varint length of ${declared}`);
        } else {
          declared += (byte & 0x7f) * 2 ** (7 * index);
        }
        this.check(declared);
        if (byte < 0x80) break;
      }
      headerLength = index + 1;
    } else {
      if (buffer.length < this.width) return undefined;
      headerLength = this.width;
      if (this.width === 8) {
        const big = this.little ? buffer.readBigUInt64LE(0) : buffer.readBigUInt64BE(0);
        declared = big > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(big);
      } else {
        declared = this.little
          ? buffer.readUIntLE(0, this.width)
          : buffer.readUIntBE(0, this.width);
      }
      if (this.includesHeader) {
        if (declared < this.width) {
          throw new RangeError(
            `a declared length of ${declared} is shorter than the ${this.width}-byte header`,
          );
        }
        declared -= this.width;
      }
      this.check(declared);
    }
    const end = headerLength + declared;
    if (buffer.length < end) return undefined;
    return [buffer.subarray(headerLength, end), end];
  }

  check(declared) {
    if (declared > this.maxFrameSize) {
      throw new RangeError(`a declared payload of ${declared} bytes is above ${this.maxFrameSize}`);
    }
  }
}

/** Calls `onFrame(payload)` for each whole frame of the stream, in order. */
function frameReader(format, onFrame, onError) {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let offset = 0;
    try {
      for (;;) {
        const parsed = format.parse(pending.subarray(offset));
        if (parsed === undefined) break;
        offset += parsed[1];
        onFrame(parsed[0]);
      }
    } catch (error) {
      onError(error);
      return;
    }
    pending = pending.subarray(offset);
  };
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The demo rule: the text minus its first 10 code points; throws when not UTF-8. */
function demoReply(payload) {
  const text = strictUtf8.decode(payload);
  return Buffer.from([...text].slice(SKIPPED).join(""), "utf8");
}

function serve(format) {
  const server = net.createServer({ noDelay: true }, (socket) => {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    let answered = 0;
    socket.on(
      "data",
      frameReader(format, (payload) => {
        let reply;
        try {
          reply = demoReply(payload);
        } catch (error) {
          log(`${peer}: not UTF-8 (${error.message}); closing`);
          socket.destroy();
          return;
        }
        socket.write(format.encode(reply));
        answered++;
      }, (error) => {
        log(`${peer}: ${error.message}; closing`);
        socket.destroy();
      }),
    );
    socket.on("error", (error) => log(`${peer}: ${error.message}`));
    socket.on("close", () => log(`${peer} disconnected (${answered} frames answered)`));
    socket.on("end", () => socket.end());
  });
  server.listen(0, "127.0.0.1", () => {
    process.stdout.write(`listening on 127.0.0.1:${server.address().port}\n`);
  });
  // Runs until standard input ends: the test closes it to stop the server.
  process.stdin.on("end", () => process.exit(0));
  process.stdin.resume();
}

function messageBytes(item) {
  if (typeof item === "string") return Buffer.from(item, "utf8");
  if (typeof item.hex === "string") return Buffer.from(item.hex, "hex");
  if (typeof item.fill === "string") {
    return Buffer.alloc(item.count * item.fill.length / 2, item.fill, "hex");
  }
  return fail(`a message is a string, {hex} or {fill, count}: ${JSON.stringify(item)}`);
}

function difference(index, count, expected, got) {
  let at = 0;
  while (at < expected.length && at < got.length && expected[at] === got[at]) at++;
  const around = (bytes) => bytes.subarray(at, at + 16).toString("hex") || "end";
  return `reply ${index + 1} of ${count} differs at byte ${at}: expected ${expected.length} ` +
    `bytes (${around(expected)} there), got ${got.length} bytes (${around(got)} there)`;
}

function client(format, port, messages, replies) {
  if (replies === undefined) replies = messages.map(demoReply);
  if (replies.length !== messages.length) fail("as many replies as messages, please");
  messages.forEach((message, index) => {
    let own;
    try {
      own = demoReply(message);
    } catch {
      return;
    }
    if (!own.equals(replies[index])) {
      fail(`the expected reply ${index + 1} differs from this peer's rule`, 3);
    }
  });
  const socket = net.connect({ host: "127.0.0.1", port, noDelay: true });
  let received = 0;
  let done = false;
  const finish = (status, message) => {
    if (done) return;
    done = true;
    if (status === 0) process.stdout.write(`${message}\n`);
    else log(message);
    socket.destroy();
    process.exitCode = status;
  };
  socket.on("connect", () => {
    for (const message of messages) socket.write(format.encode(message));
  });
  socket.on(
    "data",
    frameReader(format, (payload) => {
      if (done) return;
      const expected = replies[received];
      if (expected === undefined) {
        finish(1, `an extra reply: ${replies.length} expected`);
      } else if (!expected.equals(payload)) {
        finish(1, difference(received, replies.length, expected, payload));
      } else if (++received === replies.length) {
        finish(0, `${replies.length} replies match`);
      }
    }, (error) => finish(1, `reply ${received + 1} of ${replies.length}: ${error.message}`)),
  );
  socket.on("error", (error) => finish(1, `connection failed: ${error.message}`));
  socket.on("close", () => {
    finish(1, `the server closed the connection after ${received} of ${replies.length} replies`);
  });
  if (replies.length === 0) socket.on("connect", () => finish(0, "0 replies match"));
}

function main(args) {
  let lengthField = "u32be";
  let includesHeader = false;
  let maxFrameSize;
  let port;
  let messagesFile;
  const positionals = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--length-field") lengthField = args[++i];
    else if (arg === "--length-includes-header") includesHeader = true;
    else if (arg === "--max-frame-size") maxFrameSize = Number(args[++i]);
    else if (arg === "--port") port = Number(args[++i]);
    else if (arg === "--messages") messagesFile = args[++i];
    else if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    } else if (arg.startsWith("--")) fail(`unknown flag ${arg}`);
    else positionals.push(arg);
  }
  const format = new Format(lengthField, includesHeader, maxFrameSize);
  const mode = positionals.shift();
  if (mode === "server") return serve(format);
  if (mode !== "client") fail("usage: peer.mjs server|client [options]; see the file's comment");
  if (port === undefined) fail("client needs --port");
  let messages;
  let replies;
  if (messagesFile !== undefined) {
    let data = JSON.parse(readFileSync(messagesFile, "utf8"));
    if (Array.isArray(data)) data = { messages: data };
    messages = data.messages.map(messageBytes);
    replies = data.replies?.map(messageBytes);
  } else {
    messages = positionals.map((text) => Buffer.from(text, "utf8"));
  }
  client(format, port, messages, replies);
}

main(process.argv.slice(2));
