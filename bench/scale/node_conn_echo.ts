// Copyright 2026 the buffered-framing authors. MIT license.
// Minimal read/write loop on NodeConn (node_conn.ts), without the library:
// read into a 64 KiB array, answer every complete frame (4-byte big-endian
// length; reply = payload minus its first 10 code points), await the write,
// read again. Isolates the adapter from FrameReader/FrameWriter/Connection.
// usage: deno run --allow-net=127.0.0.1:PORT [--allow-env --allow-write=/tmp] \
//          bench/scale/node_conn_echo.ts --port PORT [--buffer-size 65536] [--write eager|callback] [--listeners N]
// SCALE_STATS=/tmp/file.json writes per-connection service statistics on SIGTERM.
import { listenNode, NodeConn } from "./node_conn.ts";
import { complete, enabled, flag, issue, opWait, skip10 } from "./_stats.ts";

const port = Number(flag("port", "4567"));
const bufferSize = Number(flag("buffer-size", "65536"));
const write = flag("write", "eager") as "eager" | "callback";
const listeners = Number(flag("listeners", "1"));

async function serve(conn: NodeConn, id: number): Promise<void> {
  const buf = new Uint8Array(bufferSize);
  let start = 0, end = 0;
  try {
    while (true) {
      if (start === end) start = end = 0;
      else if (end === buf.length) {
        buf.copyWithin(0, start, end);
        end -= start;
        start = 0;
      }
      issue(id);
      const t0 = enabled ? performance.now() : 0;
      const n = await conn.read(buf.subarray(end));
      if (n === null) break;
      if (enabled) opWait("read", performance.now() - t0);
      end += n;
      let off = start;
      const parts: Uint8Array[] = [];
      let bytes = 0;
      while (end - off >= 4) {
        const len =
          ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
        if (end - off - 4 < len) break;
        const p = off + 4;
        const s = skip10(buf, p, p + len);
        const r = p + len - s;
        const h = s - 4;
        buf[h] = r >>> 24;
        buf[h + 1] = r >>> 16;
        buf[h + 2] = r >>> 8;
        buf[h + 3] = r;
        parts.push(buf.subarray(h, p + len));
        bytes += p + len - h;
        off = p + len;
      }
      start = off;
      complete(id, parts.length);
      if (parts.length > 0) {
        let out: Uint8Array;
        if (parts.length === 1) out = parts[0];
        else {
          out = new Uint8Array(bytes);
          let o = 0;
          for (const x of parts) {
            out.set(x, o);
            o += x.length;
          }
        }
        const t1 = enabled ? performance.now() : 0;
        await conn.write(out);
        if (enabled) opWait("write", performance.now() - t1);
      }
    }
  } catch {
    // reset
  } finally {
    conn.close();
  }
}

let ids = 0;
listenNode(
  port,
  "127.0.0.1",
  listeners,
  (socket) => serve(new NodeConn(socket, bufferSize, write), ids++),
  () => {
    console.log(
      `listening on 127.0.0.1:${port} (NodeConn minimal loop, write=${write}, listeners=${listeners})`,
    );
  },
);
