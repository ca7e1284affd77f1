// Copyright 2026 the buffered-framing authors. MIT license.
// The client of examples/json_service.ts: sends each argument (a JSON
// request) and prints each reply, all pipelined over one connection.
//
//   deno run --allow-net=127.0.0.1:7001 examples/json_client.ts --port 7001 \
//     '{"op":"add","a":2,"b":3}' '{"op":"upper","text":"héllo"}'

import { parseArgs } from "node:util";
import { BufferedClient } from "../mod.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: { hostname: { type: "string", default: "127.0.0.1" }, port: { type: "string" } },
  allowPositionals: true,
});

await using client = await BufferedClient.connect(values.hostname, Number(values.port ?? 7001));
// Every request goes out before the first reply is read: replies come back in order.
await Promise.all(positionals.map((request) => client.sendMessage(request)));
for (let i = 0; i < positionals.length; i++) {
  const [reply, ok] = await client.receiveMessage();
  if (!ok) {
    console.error(`the service has gone: ${client.failure?.message ?? "connection closed"}`);
    Deno.exit(1);
  }
  console.log(reply);
}
