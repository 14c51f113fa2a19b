/**
 * What the gate judges, and the small helpers every part of it (and `../rejections.ts`) shares. A leaf: it imports
 * nothing else of the gate.
 */
import * as path from "node:path";
import { type ProductionEnforcement } from "../enforcement";
import { type StackClass } from "../stack-class";
import { type StackRecords } from "../reader";
import { type RosterSource } from "../trust";
import { type SettingsResult } from "../../config/stack-view";

/** The sections of the gate, each reported by one policy of the pack. */
export const GATE_SECTIONS = ["baseline", "readiness", "freeze", "approval"] as const;
export type GateSection = (typeof GATE_SECTIONS)[number];

/** What the gate judges: one stack, its settings, where its evidence is, and what applies to it. */
export interface GateInput {
  readonly stack: string;
  readonly settings: SettingsResult;
  readonly projectDir: string;
  /** Absolute evidence directory. */
  readonly evidenceDir: string;
  readonly enforcement: ProductionEnforcement;
  readonly stackClass: StackClass;
  readonly now: Date;
  /** Maximum bundle age; production always uses the committed value. */
  readonly maxAgeHours?: number;
  /** Roles whose approval counts; production always uses the committed roles. */
  readonly approverRoles?: readonly string[];
  /** Records already read; read from `evidenceDir` (once per evaluation) when absent. */
  readonly records?: StackRecords;
  /** Judge the release as a new one, ignoring rollback records (see `activeRollback`). */
  readonly asNewRelease?: boolean;
  /**
   * The roster a non-production enforcement names (the sandbox's throwaway one, `.sandbox/trust/roster.json`): a
   * sandbox stack's bundle must then be signed by one of its preflight keys, as production's by the committed roster's.
   * Never used for a production stack.
   */
  readonly sandboxRoster?: RosterSource;
}

/** A file as findings name it: relative to the project directory. */
export function rel(input: Pick<GateInput, "projectDir">, file: string): string {
  return path.relative(input.projectDir, file);
}

/** The rollout CLI command line `rest` (for remedies). */
export const rolloutCmd = (rest: string): string => `npm run rollout -- ${rest}`;

/** Whether a production-only section applies: always for production stacks, else when the environment is listed. */
export function appliesTo(input: GateInput, environments: readonly string[] | undefined): boolean {
  if (input.stackClass.production) return true;
  const env = input.settings.ok ? input.settings.settings.environment : undefined;
  return environments !== undefined && env !== undefined && environments.includes(env);
}
