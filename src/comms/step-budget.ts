/**
 * The step budget of a release or rollback: where its wall time went, per playbook step. The engine's resource events
 * (each stamped with its arrival time by the caller; the engine's own timestamps are whole seconds) are mapped to the
 * step of the resource they concern, by resource type and logical name (src/contract/names.ts). Only what an event says
 * about a step is kept (URN, type, operation): never its inputs or outputs.
 */
import {
  CHILD_SUFFIXES,
  COMPONENT_NAMES,
  pauseCommandName,
  resumeCommandName,
  SERVICES,
  VERIFICATION_RESOURCE_PREFIX,
} from "../contract";

/** The playbook steps a launch summary accounts for, in playbook order. */
export const PLAYBOOK_STEPS = [
  "gate",
  "images",
  "secrets",
  "dump",
  "rehearsal",
  "pause",
  "chart",
  "verification",
  "resume",
] as const;
export type PlaybookStep = (typeof PLAYBOOK_STEPS)[number];

/** The parts of an engine event the budget reads (the Automation API's `EngineEvent` fits). */
export interface StepEventSource {
  readonly resourcePreEvent?: { readonly metadata?: StepMetadataLike };
  readonly resOutputsEvent?: { readonly metadata?: StepMetadataLike };
  readonly resOpFailedEvent?: { readonly metadata?: StepMetadataLike };
}

interface StepMetadataLike {
  readonly urn?: string;
  readonly type?: string;
  readonly op?: string;
}

/** One resource step event as it arrived: which resource, which operation, begun or ended, when (ms since the epoch). */
export interface TimedStepEvent {
  readonly at: number;
  readonly phase: "start" | "end";
  readonly urn: string;
  readonly op: string;
}

/** The timed resource event of an engine event, or undefined for any other event. Pure. */
export function timedStepEvent(e: StepEventSource, at: number): TimedStepEvent | undefined {
  const [phase, metadata] =
    e.resourcePreEvent !== undefined
      ? (["start", e.resourcePreEvent.metadata] as const)
      : e.resOutputsEvent !== undefined
        ? (["end", e.resOutputsEvent.metadata] as const)
        : e.resOpFailedEvent !== undefined
          ? (["end", e.resOpFailedEvent.metadata] as const)
          : (["end", undefined] as const);
  if (metadata?.urn === undefined || metadata.urn === "") return undefined;
  return { at, phase, urn: metadata.urn, op: metadata.op ?? "" };
}

/** The Helm chart (`k8s.helm.v4.Chart`): it and every object it renders belong to the chart step. */
const HELM_CHART_TYPE = "kubernetes:helm.sh/v4:Chart";
const COMMAND_TYPE = "command:local:Command";
const SECRET_TYPE = "kubernetes:core/v1:Secret";

const DUMP_NAME = `${COMPONENT_NAMES.database}${CHILD_SUFFIXES.dump}`;
const REHEARSAL_NAME = `${COMPONENT_NAMES.database}${CHILD_SUFFIXES.migrationRehearsal}`;
const SECRET_NAME = `${COMPONENT_NAMES.secrets}${CHILD_SUFFIXES.secret}`;
/** The release's own CronJobs and CI schedules, and the staging cluster's CronJobs. */
const JOB_COMPONENTS = [COMPONENT_NAMES.jobs, COMPONENT_NAMES.stagingJobs];
const PAUSE_PREFIXES = JOB_COMPONENTS.map((c) => pauseCommandName(c, ""));
const RESUME_PREFIXES = JOB_COMPONENTS.map((c) => resumeCommandName(c, ""));
/** `ReleaseImages` names each child (a digest check) `<component>-<service>-…`. */
const IMAGE_PREFIXES = SERVICES.map((s) => `${COMPONENT_NAMES.images}-${s}-`);

/**
 * The playbook step a resource belongs to, from its URN (`urn:pulumi:<stack>::<project>::<parent types $ separated>$
 * <type>::<name>`); undefined for what is no step of its own (components, the provider, the namespace). Pure.
 */
export function stepOfUrn(urn: string): Exclude<PlaybookStep, "gate"> | undefined {
  const parts = urn.split("::");
  const types = (parts[2] ?? "").split("$");
  const type = types.at(-1) ?? "";
  const name = parts.slice(3).join("::");
  if (types.includes(HELM_CHART_TYPE)) return "chart";
  if (type === COMMAND_TYPE) {
    if (name.startsWith(VERIFICATION_RESOURCE_PREFIX)) return "verification";
    if (PAUSE_PREFIXES.some((p) => name.startsWith(p))) return "pause";
    if (RESUME_PREFIXES.some((p) => name.startsWith(p))) return "resume";
    if (name === DUMP_NAME) return "dump";
    if (name === REHEARSAL_NAME) return "rehearsal";
  }
  if (type === COMMAND_TYPE && IMAGE_PREFIXES.some((p) => name.startsWith(p))) return "images";
  if (type === SECRET_TYPE && name === SECRET_NAME) return "secrets";
  return undefined;
}

/** Whether a URN is the Helm chart itself (not an object it renders). Pure. */
export function isChartComponent(urn: string): boolean {
  return (urn.split("::")[2] ?? "").split("$").at(-1) === HELM_CHART_TYPE;
}

/** Operations that do a step's work; a step with none of them (only `same`) did not run. */
export const WORK_OPS: ReadonlySet<string> = new Set([
  "create",
  "update",
  "replace",
  "create-replacement",
  "import",
  "import-replacement",
]);
/**
 * Operations timed within a step: its work and the unchanged resources around it. Refreshes, reads and deletions are
 * not (the engine deletes replaced resources at the end of the update, after every step).
 */
const TIMED_OPS: ReadonlySet<string> = new Set([...WORK_OPS, "same"]);
/** A rollback does no database work (the database is forward-only): its dump and rehearsal never run. */
export const DATABASE_STEPS: ReadonlySet<PlaybookStep> = new Set(["dump", "rehearsal"]);

/** One step's share of an update: when it began and ended (ms after the update's start), or that it did not run. */
export type StepTiming =
  | {
      readonly step: PlaybookStep;
      readonly run: true;
      readonly startMs: number;
      readonly endMs: number;
      readonly wallMs: number;
    }
  | { readonly step: PlaybookStep; readonly run: false };

export interface StepBudget {
  /** From the start of the action to the end of the engine update. */
  readonly totalMs: number;
  /** Time in no step: engine and program start, refresh, policy evaluation, steps of no playbook step. */
  readonly outsideMs: number;
  /** Every playbook step, in {@link PLAYBOOK_STEPS} order. */
  readonly steps: readonly StepTiming[];
}

export interface StepBudgetInput {
  readonly kind: "release" | "rollback";
  /** When the action started (ms since the epoch): the gate step runs from here. */
  readonly startedAt: number;
  /** When the engine update was started: the gate step's end. */
  readonly engineStartedAt: number;
  /** When the engine update ended. */
  readonly finishedAt: number;
  readonly events: readonly TimedStepEvent[];
}

/**
 * Each playbook step's first start, last end and wall time. A resource that started and never ended (the update was
 * interrupted) ends with the last event. Steps run in parallel (images, secrets, dump, pause) overlap, so their wall
 * times may add up to more than the total; `outsideMs` is the time covered by no step. Pure.
 */
export function stepBudget(input: StepBudgetInput): StepBudget {
  const { startedAt } = input;
  const finishedAt = Math.max(input.finishedAt, input.engineStartedAt, startedAt);
  const lastEvent = input.events.reduce((m, e) => Math.max(m, e.at), input.engineStartedAt);
  // Per resource operation: when it began and ended.
  const spans = new Map<string, { step: PlaybookStep; op: string; start?: number; end?: number }>();
  for (const e of input.events) {
    if (!TIMED_OPS.has(e.op)) continue;
    const step = stepOfUrn(e.urn);
    if (step === undefined || (input.kind === "rollback" && DATABASE_STEPS.has(step))) continue;
    const key = `${e.op}\u0000${e.urn}`;
    const span = spans.get(key) ?? { step, op: e.op };
    if (isChartComponent(e.urn)) {
      // The chart's own outputs arrive when the program registers them, after verification may have begun: its
      // registration marks the start of the render, its rendered objects the rest of the step.
      if (e.phase === "start") span.start = span.end = Math.min(span.start ?? e.at, e.at);
    } else if (e.phase === "start") span.start = Math.min(span.start ?? e.at, e.at);
    else span.end = Math.max(span.end ?? e.at, e.at);
    spans.set(key, span);
  }
  const windows = new Map<PlaybookStep, { start: number; end: number; work: boolean }>();
  windows.set("gate", { start: startedAt, end: Math.max(input.engineStartedAt, startedAt), work: true });
  for (const span of spans.values()) {
    const start = span.start ?? span.end ?? lastEvent;
    const end = Math.max(span.end ?? lastEvent, start);
    const w = windows.get(span.step);
    windows.set(span.step, {
      start: Math.min(w?.start ?? start, start),
      end: Math.max(w?.end ?? end, end),
      work: (w?.work ?? false) || WORK_OPS.has(span.op),
    });
  }
  const steps = PLAYBOOK_STEPS.map((step): StepTiming => {
    const w = windows.get(step);
    if (w === undefined || !w.work) return { step, run: false };
    return {
      step,
      run: true,
      startMs: w.start - startedAt,
      endMs: w.end - startedAt,
      wallMs: w.end - w.start,
    };
  });
  const totalMs = finishedAt - startedAt;
  const covered = unionLength(
    steps.flatMap((s) => (s.run ? [[s.startMs, s.endMs] as const] : [])),
    totalMs,
  );
  return { totalMs, outsideMs: Math.max(0, totalMs - covered), steps };
}

/** The length of the union of intervals, each clipped to [0, limit]. */
function unionLength(intervals: readonly (readonly [number, number])[], limit: number): number {
  const sorted = intervals
    .map(([a, b]) => [Math.max(0, a), Math.min(limit, b)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let total = 0;
  let [from, to] = [Number.NaN, Number.NaN];
  for (const [a, b] of sorted) {
    if (Number.isNaN(from) || a > to) {
      if (!Number.isNaN(from)) total += to - from;
      [from, to] = [a, b];
    } else {
      to = Math.max(to, b);
    }
  }
  return Number.isNaN(from) ? total : total + (to - from);
}
