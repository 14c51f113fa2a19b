/**
 * Zod builders for stack config values, shared by the release and platform schemas. Values reach a program as text
 * (`pulumi config set` stores strings; structured values arrive as JSON) or typed; each builder accepts both and
 * leaves anything else untouched so that the schema reports it.
 */
import { z } from "zod";

/** Parses the trimmed text form of a value; non-strings and blank strings pass through unchanged. */
export const fromText = (parse: (text: string) => unknown) => (value: unknown) => {
  if (typeof value !== "string") return value;
  const trimmed = value.trim();
  if (trimmed === "") return value;
  return parse(trimmed);
};

/** Accepts a structured value or its JSON text (text that is not JSON is left for the schema to reject). */
export const fromJsonText = fromText((t) => {
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return t;
  }
});

export const integer = (min: number, max: number) =>
  z.preprocess(
    fromText((t) => (/^-?\d+$/.test(t) ? Number(t) : t)),
    z
      .number({ error: `expected a whole number between ${min} and ${max}` })
      .int({ error: "expected a whole number" })
      .min(min, { error: `expected a whole number ≥ ${min}` })
      .max(max, { error: `expected a whole number ≤ ${max}` }),
  );

export const boolean = () =>
  z.preprocess(
    fromText((t) => (t === "true" ? true : t === "false" ? false : t)),
    z.boolean({ error: "expected true or false" }),
  );

/** A non-empty string after trimming; `what` names the expected value in the error. */
export const nonEmpty = (what: string) =>
  z
    .string({ error: `expected ${what}` })
    .trim()
    .min(1, { error: `expected ${what}` });
