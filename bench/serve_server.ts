// Copyright 2026 the buffered-framing authors. MIT license.
/**
 * The demo's rule (drop the first 10 characters) as a service built on
 * `serve` with an async handler, to measure the generic path beside the demo
 * server with the shared harness:
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 bench/serve_server.ts --port PORT [--buffer-size N] [--sync]
 * ```
 *
 * `--sync` uses a plain function instead, which is what `BufferedServer` does.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { serve } from "../serve.ts";
import { InvalidUtf8Error } from "../framing.ts";
import { offsetAfterCodePointsIn } from "../_utf8.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string", default: "4567" },
    "buffer-size": { type: "string", default: "65536" },
    sync: { type: "boolean", default: false },
  },
});

function reply(payload: Uint8Array): Uint8Array {
  // The demo's own rule, so that the difference measured is the path around it.
  const cut = offsetAfterCodePointsIn(payload, 0, payload.byteLength, 10);
  if (cut < 0) throw new InvalidUtf8Error(payload.byteLength);
  return payload.subarray(cut);
}

const server = serve({
  hostname: "127.0.0.1",
  port: Number(values.port),
  bufferSize: Number(values["buffer-size"]),
  maxConnections: 20_000,
  log: () => {},
  onListen: (addr) => console.log(`listening on ${"port" in addr ? addr.port : addr}`),
}, values.sync ? reply : (payload) => Promise.resolve(reply(payload)));
Deno.addSignalListener("SIGTERM", () => server.shutdown());
await server.finished;
