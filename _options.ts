// Copyright 2026 the buffered-framing authors. MIT license.
// Validation of numeric options, shared by every class that takes them.

/**
 * Returns `value`, or `fallback` when it is `undefined`, after checking that
 * it is an integer in `[min, max]`; otherwise throws a `RangeError` that names
 * the option and the value.
 */
export function integerOption(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `from ${min} to ${max}`;
    throw new RangeError(`Invalid ${name}: must be an integer ${range}, got ${value}`);
  }
  return value;
}

/** Longest duration a timer takes, in milliseconds: 2^31 − 1. */
export const MAX_DURATION = 2 ** 31 - 1;

/**
 * Like {@linkcode integerOption} for durations in milliseconds, where `0`
 * means "no limit" (`Infinity` is accepted for the same).
 */
export function durationOption(name: string, value: number | undefined, fallback: number): number {
  if (value === Infinity) return 0;
  return integerOption(name, value, fallback, 0, MAX_DURATION);
}
