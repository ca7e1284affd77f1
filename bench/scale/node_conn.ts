// Copyright 2026 the buffered-framing authors. MIT license.
// Prototype (a): a node:net socket seen as a pull-based Deno.Conn-like
// object, so that the library's FrameReader/FrameWriter/Connection run on it
// unchanged. `read(p)` copies from the chunks the socket pushed (data events;
// the socket is paused while more than `highWater` bytes wait, resumed when
// reads drain them), resolves with null at end of stream; `write(p)` resolves
// with p.length once the socket's write callback fired (the bytes have left
// `p`: the caller may reuse it).
import type { Socket } from "node:net";

export class NodeConn {
  readonly socket: Socket;
  readonly remoteAddr: Deno.NetAddr;
  readonly localAddr: Deno.NetAddr;
  readonly #highWater: number;
  #chunks: Uint8Array[] = [];
  #head = 0; // offset into #chunks[0]
  #queued = 0;
  #eof = false;
  #error: Error | undefined;
  #paused = false;
  #wake: (() => void) | undefined;

  constructor(socket: Socket, highWater = 64 * 1024) {
    this.socket = socket;
    this.#highWater = highWater;
    this.remoteAddr = {
      transport: "tcp",
      hostname: socket.remoteAddress ?? "",
      port: socket.remotePort ?? 0,
    };
    this.localAddr = {
      transport: "tcp",
      hostname: socket.localAddress ?? "",
      port: socket.localPort ?? 0,
    };
    socket.on("data", (chunk: Uint8Array) => {
      this.#chunks.push(chunk);
      this.#queued += chunk.length;
      if (this.#queued >= this.#highWater && !this.#paused) {
        this.#paused = true;
        socket.pause();
      }
      this.#notify();
    });
    socket.on("end", () => {
      this.#eof = true;
      this.#notify();
    });
    socket.on("error", (e: Error) => {
      this.#error = e;
      this.#notify();
    });
    socket.on("close", () => {
      this.#eof = true;
      this.#notify();
    });
  }

  #notify(): void {
    const w = this.#wake;
    if (w !== undefined) {
      this.#wake = undefined;
      w();
    }
  }

  async read(p: Uint8Array): Promise<number | null> {
    while (this.#queued === 0) {
      if (this.#error !== undefined) throw this.#error;
      if (this.#eof) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    let n = 0;
    while (n < p.length && this.#queued > 0) {
      const c = this.#chunks[0];
      const take = Math.min(p.length - n, c.length - this.#head);
      p.set(take === c.length && this.#head === 0 ? c : c.subarray(this.#head, this.#head + take), n);
      n += take;
      this.#queued -= take;
      this.#head += take;
      if (this.#head === c.length) {
        this.#chunks.shift();
        this.#head = 0;
      }
    }
    if (this.#paused && this.#queued < this.#highWater) {
      this.#paused = false;
      this.socket.resume();
    }
    return n;
  }

  write(p: Uint8Array): Promise<number> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      this.socket.write(p, (error?: Error | null) => error ? reject(error) : resolve(p.length));
    });
  }

  closeWrite(): Promise<void> {
    return new Promise((resolve) => this.socket.end(resolve));
  }

  close(): void {
    this.socket.destroy();
  }

  setNoDelay(on = true): void {
    this.socket.setNoDelay(on);
  }

  setKeepAlive(on = true): void {
    this.socket.setKeepAlive(on);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
