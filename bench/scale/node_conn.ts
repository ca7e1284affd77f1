// Copyright 2026 the buffered-framing authors. MIT license.
// Prototype (a): a node:net socket seen as a pull-based Deno.Conn-like
// object, so that the library's FrameReader/FrameWriter/Connection run on it
// unchanged. `read(p)` copies from the chunks the socket pushed (data events;
// the socket is paused while more than `highWater` bytes wait, resumed when
// reads drain them), resolves with null at end of stream. `write(p)`:
//   "eager" (default): copies p, hands the copy to socket.write(), resolves at
//     once when write() returned true, after 'drain' when it returned false
//     (node keeps a reference to the buffer until it is flushed: the copy lets
//     the caller reuse p immediately);
//   "callback": resolves with p.length once the socket's write callback fired
//     (node:net in Deno 2.9 fires it from a later event-loop turn: under load
//     each write then costs a whole turn).
import net from "node:net";
import type { Socket } from "node:net";

/**
 * Listens on host:port with `listeners` node:net servers (SO_REUSEPORT when
 * more than one). node:net in Deno 2.9.6 takes about one connection from a
 * listener per event-loop turn: under load (turns of 10-30 ms) a burst of
 * 1,000 connections is accepted over seconds. Each extra listener adds one
 * accept per turn (the kernel spreads new connections over them).
 */
export function listenNode(
  port: number,
  host: string,
  listeners: number,
  onSocket: (socket: Socket) => void,
  onListening: () => void,
): net.Server[] {
  const servers: net.Server[] = [];
  let up = 0;
  for (let i = 0; i < listeners; i++) {
    const server = net.createServer({ noDelay: true }, onSocket);
    // reusePort: node >= 22.12 (and Deno's node:net) set SO_REUSEPORT before bind
    server.listen(
      { port, host, backlog: 1024, reusePort: listeners > 1 } as net.ListenOptions,
      () => {
        if (++up === listeners) onListening();
      },
    );
    servers.push(server);
  }
  return servers;
}

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
  readonly #eager: boolean;
  #drained: (() => void) | undefined;

  constructor(socket: Socket, highWater = 64 * 1024, write: "eager" | "callback" = "eager") {
    this.socket = socket;
    this.#highWater = highWater;
    this.#eager = write === "eager";
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
      this.#drain();
    });
    socket.on("close", () => {
      this.#eof = true;
      this.#notify();
      this.#error ??= new Deno.errors.BrokenPipe("socket closed");
      this.#drain();
    });
    if (this.#eager) socket.on("drain", () => this.#drain());
  }

  #notify(): void {
    const w = this.#wake;
    if (w !== undefined) {
      this.#wake = undefined;
      w();
    }
  }

  #drain(): void {
    const d = this.#drained;
    if (d !== undefined) {
      this.#drained = undefined;
      d();
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
      p.set(
        take === c.length && this.#head === 0 ? c : c.subarray(this.#head, this.#head + take),
        n,
      );
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
    if (this.#eager) {
      if (this.socket.destroyed) return Promise.reject(new Deno.errors.BrokenPipe("socket closed"));
      if (this.socket.write(p.slice())) return Promise.resolve(p.length);
      return new Promise((resolve, reject) => {
        this.#drained = () => this.#error !== undefined ? reject(this.#error) : resolve(p.length);
      });
    }
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
