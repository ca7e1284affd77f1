// Copyright 2026 the buffered-framing authors. MIT license.
// The same minimal server on node:net inside Deno (Deno 2.9's node:net runs on
// deno_core's libuv-compatible loop, libs/core/uv_compat): a data event is
// parsed in place, an incomplete tail is kept, replies of one data event go
// out in one write; reading pauses while the write buffer is over its mark.
// usage: deno run --allow-net=127.0.0.1:PORT bench/scale/node_net_echo.ts --port PORT
// SCALE_STATS=/tmp/file.json (with --allow-env --allow-write) writes per-connection statistics.
import net from "node:net";
import { Buffer } from "node:buffer";
import { complete, flag, skip10 } from "./_stats.ts";

const port = Number(flag("port", "4567"));
let ids = 0;

function serve(socket: net.Socket): void {
  const id = ids++;
  let pending: Buffer | null = null;
  socket.on("data", (chunk: Buffer) => {
    let buf = chunk;
    if (pending !== null) {
      buf = Buffer.concat([pending, chunk]);
      pending = null;
    }
    const replies: Uint8Array[] = [];
    let bytes = 0;
    let off = 0;
    while (buf.length - off >= 4) {
      const len = buf.readUInt32BE(off);
      if (buf.length - off - 4 < len) break;
      const p = off + 4;
      const s = skip10(buf, p, p + len);
      const n = p + len - s;
      const h = s - 4;
      buf.writeUInt32BE(n, h);
      const r = buf.subarray(h, p + len);
      replies.push(r);
      bytes += r.length;
      off = p + len;
    }
    if (off < buf.length) pending = Buffer.from(buf.subarray(off)); // copy: the chunk may be reused
    complete(id, replies.length);
    if (replies.length === 0) return;
    const ok = socket.write(replies.length === 1 ? replies[0] : Buffer.concat(replies, bytes));
    if (!ok) {
      socket.pause();
      socket.once("drain", () => socket.resume());
    }
  });
  socket.on("error", () => {});
}

const server = net.createServer({ noDelay: true }, serve);
server.listen({ port, host: "127.0.0.1", backlog: 1024 }, () => {
  console.log(`listening on 127.0.0.1:${port} node:net`);
});
