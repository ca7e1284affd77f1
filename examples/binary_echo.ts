// Copyright 2026 the buffered-framing authors. MIT license.
// A binary echo service on `serve`: every payload comes back as it came,
// whatever its bytes (protobuf, MessagePack, CBOR...), with the server's
// limits, timeouts and graceful stop. SIGINT or SIGTERM stops it.
//
//   deno run --allow-net=127.0.0.1:7000 examples/binary_echo.ts --port 7000

import { parseArgs } from "node:util";
import { serve } from "../mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { hostname: { type: "string", default: "127.0.0.1" }, port: { type: "string" } },
});

const controller = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => controller.abort());
}
const server = serve({
  hostname: values.hostname,
  port: Number(values.port ?? 7000),
  maxFrameSize: 1024 * 1024,
  signal: controller.signal,
  onListen: (addr) => console.log(`listening on ${"port" in addr ? addr.port : addr}`),
}, (payload) => payload);
await server.finished;
Deno.exit(0);
