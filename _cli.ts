// Copyright 2026 the buffered-framing authors. MIT license.
// Command-line plumbing shared by the client and server executables.

import { parseArgs, type ParseArgsConfig } from "node:util";
import { DEFAULT_MAX_FRAME_SIZE, LENGTH_FIELDS } from "./constants.ts";
import type { FrameFormatOptions, LengthFieldName } from "./types.ts";
import { frameFormat } from "./_header.ts";

/** A bad command line: the executables print it and exit with status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** The parsed flags, each a string (or boolean for `--help`), and the positionals. */
export interface CommandLine {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * Parses `args` strictly against `options`: an unknown flag or a missing value
 * is a {@linkcode UsageError} whose message names the flag.
 */
export function parseCommandLine(
  args: string[],
  options: Options,
  allowPositionals: boolean,
): CommandLine {
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals, strict: true });
    return { values: values as CommandLine["values"], positionals };
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** Reads the integer flag `--name` from `values`, in `[min, max]`, or `fallback` when absent. */
export function integerFlag(
  values: CommandLine["values"],
  name: string,
  fallback: number,
  min: number,
  max: number = Number.MAX_SAFE_INTEGER,
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = typeof raw === "string" && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`Invalid value for --${name}: expected an integer ${range}, got '${raw}'`);
  }
  return value;
}

/** The flags that choose the frame format, the same on both executables. */
export const FORMAT_FLAGS = {
  "length-field": { type: "string" },
  "length-includes-header": { type: "boolean" },
  "max-frame-size": { type: "string" },
} as const;

/** The usage lines of {@linkcode FORMAT_FLAGS}, `what` naming what the limit bounds. */
export function formatFlagsUsage(what: string): string {
  return `  --length-field NAME      the length field: ${LENGTH_FIELDS.join(", ")}
                           (default: u32be, 4 bytes big-endian)
  --length-includes-header the declared length counts the length field too
                           (fixed widths only, not varint)
  --max-frame-size N       ${what}, bytes (default: ${DEFAULT_MAX_FRAME_SIZE},
                           or what the length field can declare if less)`;
}

/**
 * Reads `--length-field`, `--length-includes-header` and `--max-frame-size`
 * into checked options: an unknown name, `--length-includes-header` with
 * varint, or a limit above what the field can declare is a
 * {@linkcode UsageError}. Without `--max-frame-size` the limit is the
 * smaller of 16 MiB and what the field can declare, so `--length-field u8`
 * alone just works.
 */
export function formatFlags(values: CommandLine["values"]): FrameFormatOptions {
  const name = stringFlag(values, "length-field", "u32be");
  if (!(LENGTH_FIELDS as readonly string[]).includes(name)) {
    throw new UsageError(
      `Invalid value for --length-field: expected one of ${
        LENGTH_FIELDS.join(", ")
      }, got '${name}'`,
    );
  }
  const lengthField = name as LengthFieldName;
  const lengthIncludesHeader = values["length-includes-header"] === true;
  if (lengthIncludesHeader && lengthField === "varint") {
    throw new UsageError(
      "--length-includes-header applies to the fixed-width length fields, not to --length-field varint",
    );
  }
  const format = frameFormat({ lengthField, lengthIncludesHeader }, true);
  const limit = format.lengthField.maxPayload;
  const raw = values["max-frame-size"];
  if (typeof raw === "string" && /^\d+$/.test(raw) && Number(raw) > limit) {
    throw new UsageError(
      `Invalid value for --max-frame-size: ${raw} is more than ${
        describeFormat(values)
      } can declare, ${limit}`,
    );
  }
  const maxFrameSize = integerFlag(values, "max-frame-size", format.maxFrameSize, 0, limit);
  return { lengthField, lengthIncludesHeader, maxFrameSize };
}

/** The format flags as given, for messages: `--length-field u8 --length-includes-header`. */
export function describeFormat(values: CommandLine["values"]): string {
  const name = stringFlag(values, "length-field", "u32be");
  const counted = values["length-includes-header"] === true ? " --length-includes-header" : "";
  return `--length-field ${name}${counted}`;
}

/** Reads the string flag `--name`, or `fallback` when absent. */
export function stringFlag(values: CommandLine["values"], name: string, fallback: string): string {
  const raw = values[name];
  return typeof raw === "string" ? raw : fallback;
}

/**
 * Runs `main` as an executable: a {@linkcode UsageError} prints its message
 * and a hint to stderr and exits 2; otherwise exits with `main`'s status.
 */
export async function runMain(main: () => Promise<number>, usage: string): Promise<never> {
  let status: number;
  try {
    status = await main();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`error: ${error.message}\n${usage.split("\n")[0]}\nRun with --help for more.`);
    status = 2;
  }
  Deno.exit(status);
}
