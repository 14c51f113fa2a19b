/** Shared logic of the record-based policies (freeze, approval, override). */
import { readRecords, type StackRecords } from "../../src/evidence";
import { type LocationConfig, type StackContext, stackContext } from "./common";

export function recordsFor(
  urn: string,
  cfg: LocationConfig,
): { ctx: StackContext; records: StackRecords } | undefined {
  const ctx = stackContext(urn, cfg);
  if (ctx === undefined) {
    return undefined;
  }
  return { ctx, records: readRecords(ctx.evidenceDir, ctx.stack) };
}
