// Copyright 2026 the buffered-framing authors. MIT license.
// A small JSON request/response service on `serve`: each request is a JSON
// object `{ "op": "add" | "upper", ... }`, each reply a JSON object with a
// `result` or an `error`. Requests are text, so `textHandler` decodes them
// (a payload that is not UTF-8 ends its connection). The handler is async,
// as one that calls a database would be; replies still leave in order.
//
//   deno run --allow-net=127.0.0.1:7001 examples/json_service.ts --port 7001

import { parseArgs } from "node:util";
import { serve, textHandler } from "../mod.ts";

/** What the service answers to one request. */
export async function answer(request: unknown): Promise<unknown> {
  await Promise.resolve(); // stands for the I/O a real service does
  if (typeof request !== "object" || request === null || !("op" in request)) {
    return { error: "expected an object with an op" };
  }
  const { op } = request;
  if (op === "add" && "a" in request && "b" in request) {
    const { a, b } = request;
    if (typeof a === "number" && typeof b === "number") return { result: a + b };
    return { error: "add needs two numbers, a and b" };
  }
  if (op === "upper" && "text" in request && typeof request.text === "string") {
    return { result: request.text.toUpperCase() };
  }
  return { error: `unknown op: ${JSON.stringify(op)}` };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { hostname: { type: "string", default: "127.0.0.1" }, port: { type: "string" } },
  });
  const controller = new AbortController();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => controller.abort());
  }
  const server = serve(
    {
      hostname: values.hostname,
      port: Number(values.port ?? 7001),
      maxFrameSize: 64 * 1024,
      signal: controller.signal,
      onListen: (addr) => console.log(`listening on ${"port" in addr ? addr.port : addr}`),
    },
    textHandler(async (text) => {
      let request: unknown;
      try {
        request = JSON.parse(text);
      } catch {
        return JSON.stringify({ error: "not JSON" });
      }
      return JSON.stringify(await answer(request));
    }),
  );
  await server.finished;
  Deno.exit(0);
}
