// Copyright 2026 the buffered-framing authors. MIT license.
// The library's own per-connection code (_connection.ts: FrameReader,
// FrameWriter, the suffix handler of the demo) over a chosen transport:
//   --transport deno   Deno.listen + Deno.Conn (what the library does now)
//   --transport node   node:net, each socket wrapped by NodeConn (prototype a)
// usage: deno run --allow-net=127.0.0.1:PORT bench/scale/lib_server.ts --port PORT [--transport node] [--buffer-size 65536]
//          [--write eager|callback] [--listeners N]   (node transport: NodeConn.write mode, listeners on the port)
import type { ConnectionContext } from "../../_connection.ts";
import type { AnyConn } from "../../_transport.ts";
import { listenNode, NodeConn } from "./node_conn.ts";
import { flag, skip10 } from "./_stats.ts";

// The library is edited concurrently: SCALE_LIB=/tmp/libsnap (a `git show HEAD` copy of the
// root *.ts, with --allow-read --allow-env) pins the version measured.
const lib = (Deno.env.get("SCALE_LIB") ?? new URL("../..", import.meta.url).pathname).replace(
  /\/$/,
  "",
);
const { Connection } = await import(`${lib}/_connection.ts`);
const { SERVER_DEFAULTS } = await import(`${lib}/_server.ts`);

const port = Number(flag("port", "4567"));
const transport = flag("transport", "deno");
const bufferSize = Number(flag("buffer-size", "65536"));
const write = flag("write", "eager") as "eager" | "callback"; // NodeConn.write (--transport node)
const listeners = Number(flag("listeners", "1")); // node:net listeners on the port (SO_REUSEPORT)

const context = {
  handler: { suffix: skip10 },
  bufferSize,
  maxFrameSize: 64 * 1024 * 1024,
  maxInFlight: SERVER_DEFAULTS.maxInFlight,
  idleTimeout: SERVER_DEFAULTS.idleTimeout,
  frameTimeout: SERVER_DEFAULTS.frameTimeout,
  writeTimeout: SERVER_DEFAULTS.writeTimeout,
  lingerTimeout: SERVER_DEFAULTS.lingerTimeout,
  lingerTime: SERVER_DEFAULTS.lingerTime,
  log: () => {},
  keepRunning: true,
} as unknown as ConnectionContext;

let ids = 0;
function track(conn: AnyConn): void {
  const id = ++ids;
  new Connection(conn, { remoteAddr: conn.remoteAddr, peer: `c${id}`, id }, context).run();
}

if (transport === "node") {
  listenNode(port, "127.0.0.1", listeners, (socket) => {
    track(new NodeConn(socket, bufferSize, write) as unknown as AnyConn);
  }, () => {
    console.log(
      `listening on 127.0.0.1:${port} (library on node:net, write=${write}, listeners=${listeners})`,
    );
  });
} else {
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  console.log(`listening on 127.0.0.1:${port} (library on Deno.Conn)`);
  for await (const conn of listener) track(conn);
}
