// Copyright 2026 the buffered-framing authors. MIT license.
// Command-line plumbing shared by the client and server executables.

import { parseArgs, type ParseArgsConfig } from "node:util";

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
