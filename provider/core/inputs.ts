/** What both resources' `check` and `diff` share about the inputs the engine sends. */

/** The value the engine sends for an input not known yet (during preview), whatever its type. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Whether an input is still unknown (preview). */
export const isUnknown = (value: unknown): boolean => value === UNKNOWN;

/** One invalid input, named, as `check` returns it to the engine. */
export interface CheckFailure {
  property: string;
  reason: string;
}

/** A value as an error message quotes it: JSON, cut at 60 characters. */
export function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
