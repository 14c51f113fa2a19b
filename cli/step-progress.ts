/**
 * Progress an operator can follow while `up` or `rollback` runs: one line per playbook step and per post-deploy check
 * as it starts and ends, from the engine's events. A resource's step is the step budget's mapping
 * (src/comms/step-budget.ts `stepOfUrn`); a check's result is read from its command's `stdout` output as the program
 * reads it (`parseCheckResult` of components/post-deploy-verification.ts). With `--json` each line is one JSON object
 * on stdout instead (the engine's own progress stays on stderr, the command's result is the last line). An output the
 * engine marks secret is never read, so never printed.
 */
import { type CheckResult, parseCheckResult } from "../src/verify/check-result";
import {
  DATABASE_STEPS,
  isChartComponent,
  PLAYBOOK_STEPS,
  stepOfUrn,
  timedStepEvent,
  WORK_OPS,
  type PlaybookStep,
  type StepEventSource,
} from "../src/comms/step-budget";
import { VERIFICATION_RESOURCE_PREFIX } from "../src/contract";
import { progressLines } from "./output";

/** Which update the events belong to (the automatic rollback of `up` reports after the release). */
export type UpdateKind = "release" | "rollback";

/** One progress event: a step or a check started or ended (`ms`: its wall time, or the probe's own for a check). */
export type ProgressEvent =
  | {
      readonly event: "step";
      readonly step: PlaybookStep;
      readonly phase: "start";
      readonly kind: UpdateKind;
    }
  | {
      readonly event: "step";
      readonly step: PlaybookStep;
      readonly phase: "end";
      readonly status: "done" | "failed";
      readonly ms: number;
      readonly detail?: string;
      /** Gate only: engine start to first step (start, refresh, policy); `ms` is then the CLI's own, as in the budget. */
      readonly engineMs?: number;
      readonly kind: UpdateKind;
    }
  | { readonly event: "check"; readonly check: string; readonly phase: "start"; readonly kind: UpdateKind }
  | {
      readonly event: "check";
      readonly check: string;
      readonly phase: "end";
      readonly status: "ok" | "failed";
      readonly ms: number;
      readonly attempts?: number;
      readonly detail?: string;
      readonly kind: UpdateKind;
    };

interface MetadataLike {
  readonly urn?: string;
  readonly type?: string;
  readonly op?: string;
  readonly new?: { readonly outputs?: Readonly<Record<string, unknown>> };
}

/** The parts of an engine event the progress reads (the Automation API's `EngineEvent` fits). */
export interface ProgressEventSource extends StepEventSource {
  readonly resourcePreEvent?: { readonly metadata?: MetadataLike };
  readonly resOutputsEvent?: { readonly metadata?: MetadataLike };
  readonly resOpFailedEvent?: { readonly metadata?: MetadataLike };
  readonly diagnosticEvent?: { readonly urn?: string; readonly message?: string };
}

type StepEnd = Extract<ProgressEvent, { event: "step"; phase: "end" }>;

/** How a check's result is read from its probe's output (`parseCheckResult`). */
export type ParseCheck = (check: string, stdout: string) => CheckResult;

interface StepState {
  readonly startedAt: number;
  /** Resource operations begun and not ended (`<op>\0<urn>`). */
  readonly inFlight: Set<string>;
  /** What failed in the step: check names, else resource names. */
  readonly failed: string[];
  /** When its last operation ended; the end is told at the next event of another step (a replacement goes on). */
  endedAt?: number;
}

interface CheckState {
  readonly check: string;
  readonly startedAt: number;
  ended: boolean;
  /** The probe's lines among the engine's diagnostics for the check (its result or its failure summary). */
  readonly said: string[];
}

/**
 * The progress events of one update, from its engine events in arrival order: the step budget's steps, only work
 * (not `same`, refresh, read, delete), no database steps in a rollback; the gate's own time ends at the engine's start.
 */
export class ProgressTracker {
  private gateOpen = true;
  private engineAt: number | undefined;
  private finished = false;
  private readonly steps = new Map<PlaybookStep, StepState>();
  private readonly checks = new Map<string, CheckState>();
  private readonly noResult: CheckResult;

  constructor(
    private readonly kind: UpdateKind,
    private readonly startedAt: number,
    private readonly parseCheck: ParseCheck,
  ) {
    this.noResult = parseCheck("", "");
  }

  /** The gate's start. */
  begin(): ProgressEvent[] {
    return [{ event: "step", step: "gate", phase: "start", kind: this.kind }];
  }

  /** The engine update starts at `at`: the gate's own work (the CLI's) ends there, the engine's begins. */
  engineStarted(at: number): void {
    this.engineAt ??= at;
  }

  /** What an engine event, arrived at `at` (ms since the epoch), starts or ends. */
  observe(e: ProgressEventSource, at: number): ProgressEvent[] {
    if (this.finished) return [];
    const said = e.diagnosticEvent;
    if (said?.urn !== undefined && said.message !== undefined) {
      const c = this.checks.get(said.urn);
      if (c !== undefined) c.said.push(...probeLines(c.check, said.message));
      return [];
    }
    const t = timedStepEvent(e, at);
    if (t === undefined) return [];
    const step = WORK_OPS.has(t.op) ? this.stepOf(t.urn) : undefined;
    const out = this.flush(t.phase === "start" ? step : undefined);
    if (step === undefined) return out;
    if (t.phase === "start") return [...out, ...this.started(step, t.urn, t.op, at)];
    return [...out, ...this.ended(step, t.urn, t.op, at, e)];
  }

  /** The ends not told yet, when the update is over (`ok`: it succeeded); afterwards nothing more is told. */
  finish(ok: boolean, at: number): ProgressEvent[] {
    if (this.finished) return [];
    this.finished = true;
    const out: ProgressEvent[] = [];
    if (this.gateOpen) out.push(this.gateEnd(ok ? "done" : "failed", at));
    for (const c of this.checks.values()) {
      if (c.ended) continue;
      c.ended = true;
      out.push({
        event: "check",
        check: c.check,
        phase: "end",
        status: ok ? "ok" : "failed",
        ms: at - c.startedAt,
        ...(ok ? {} : { detail: "interrupted" }),
        kind: this.kind,
      });
    }
    for (const step of PLAYBOOK_STEPS) {
      const s = this.steps.get(step);
      if (s === undefined) continue;
      const interrupted = !ok && s.inFlight.size > 0;
      const failed = s.failed.length > 0 || interrupted;
      const detail = s.failed.length > 0 ? s.failed.join(", ") : interrupted ? "interrupted" : undefined;
      out.push(this.stepEnd(step, failed ? "failed" : "done", (s.endedAt ?? at) - s.startedAt, detail));
    }
    this.steps.clear();
    return out;
  }

  private stepOf(urn: string): PlaybookStep | undefined {
    const step = stepOfUrn(urn);
    return step !== undefined && this.kind === "rollback" && DATABASE_STEPS.has(step) ? undefined : step;
  }

  /** The ends of the steps whose work is over, except `keep`'s (an operation of it begins again). */
  private flush(keep: PlaybookStep | undefined): ProgressEvent[] {
    const out: ProgressEvent[] = [];
    for (const [step, s] of this.steps) {
      if (s.endedAt === undefined || step === keep) continue;
      const failed = s.failed.length > 0;
      out.push(
        this.stepEnd(
          step,
          failed ? "failed" : "done",
          s.endedAt - s.startedAt,
          failed ? s.failed.join(", ") : undefined,
        ),
      );
      this.steps.delete(step);
    }
    return out;
  }

  private started(step: PlaybookStep, urn: string, op: string, at: number): ProgressEvent[] {
    const out: ProgressEvent[] = [];
    if (this.gateOpen) out.push(this.gateEnd("done", at));
    let s = this.steps.get(step);
    if (s === undefined) {
      s = { startedAt: at, inFlight: new Set(), failed: [] };
      this.steps.set(step, s);
      out.push({ event: "step", step, phase: "start", kind: this.kind });
    }
    delete s.endedAt;
    // The chart's own outputs arrive late (after verification may have begun): its rendered objects end the step.
    if (!isChartComponent(urn)) s.inFlight.add(`${op}\u0000${urn}`);
    const check = checkName(step, urn);
    if (check !== undefined && !this.checks.has(urn)) {
      this.checks.set(urn, { check, startedAt: at, ended: false, said: [] });
      out.push({ event: "check", check, phase: "start", kind: this.kind });
    }
    return out;
  }

  private ended(
    step: PlaybookStep,
    urn: string,
    op: string,
    at: number,
    e: ProgressEventSource,
  ): ProgressEvent[] {
    const s = this.steps.get(step);
    const failed = e.resOpFailedEvent !== undefined;
    if (s === undefined || (isChartComponent(urn) && !failed)) return [];
    const out: ProgressEvent[] = [];
    const c = this.checks.get(urn);
    if (c !== undefined && !c.ended) {
      c.ended = true;
      out.push(this.checkEnd(c, failed, at, e));
    }
    if (failed) s.failed.push(c?.check ?? urn.split("::").at(-1) ?? urn);
    s.inFlight.delete(`${op}\u0000${urn}`);
    if (s.inFlight.size === 0) s.endedAt = at;
    return out;
  }

  /** A check's end: ok when its command succeeded; attempts, time and detail from its probe's result when readable. */
  private checkEnd(c: CheckState, failed: boolean, at: number, e: ProgressEventSource): ProgressEvent {
    const outputs = (e.resOutputsEvent ?? e.resOpFailedEvent)?.metadata?.new?.outputs;
    const texts = [plainString(outputs?.["stdout"]), ...c.said].filter((t): t is string => t !== undefined);
    const result = this.resultIn(c.check, texts, !failed);
    const summary = failed && result === undefined ? failureSummary(c.check, c.said) : undefined;
    const detail = result?.detail ?? summary ?? (failed ? "see the engine output above" : undefined);
    return {
      event: "check",
      check: c.check,
      phase: "end",
      status: failed ? "failed" : "ok",
      ms: result?.elapsedMs ?? at - c.startedAt,
      ...(result !== undefined ? { attempts: result.attempts } : {}),
      ...(detail !== undefined && detail !== "" ? { detail: oneLine(detail) } : {}),
      kind: this.kind,
    };
  }

  /** The newest probe result for `check` with the outcome the engine reported, parsed as the program parses it. */
  private resultIn(check: string, texts: readonly string[], ok: boolean): CheckResult | undefined {
    const lines = texts.flatMap((t) => t.split("\n").map((l) => l.trim())).filter((l) => l.startsWith("{"));
    for (const line of lines.reverse()) {
      const r = this.parseCheck(check, line);
      if (r.check === check && r.ok === ok && !sameResult(r, { ...this.noResult, check })) return r;
    }
    return undefined;
  }

  /** The gate's end at `at`: its own time up to the engine's start; the engine's from there to `at`. */
  private gateEnd(status: "done" | "failed", at: number): ProgressEvent {
    this.gateOpen = false;
    const end = this.stepEnd("gate", status, (this.engineAt ?? at) - this.startedAt);
    return this.engineAt === undefined ? end : { ...end, engineMs: Math.max(0, at - this.engineAt) };
  }

  private stepEnd(step: PlaybookStep, status: "done" | "failed", ms: number, detail?: string): StepEnd {
    return {
      event: "step",
      step,
      phase: "end",
      status,
      ms: Math.max(0, ms),
      ...(detail !== undefined ? { detail } : {}),
      kind: this.kind,
    };
  }
}

/** The check a verification command runs (`nova-verify-<check>`), or undefined for any other resource. */
function checkName(step: PlaybookStep, urn: string): string | undefined {
  if (step !== "verification") return undefined;
  const name = urn.split("::").slice(3).join("::");
  return name.startsWith(VERIFICATION_RESOURCE_PREFIX)
    ? name.slice(VERIFICATION_RESOURCE_PREFIX.length)
    : undefined;
}

/** An output's value when it is a plain string; a secret (`[secret]`, or the engine's secret envelope) is never read. */
function plainString(value: unknown): string | undefined {
  return typeof value === "string" && value !== "[secret]" ? value : undefined;
}

/** Engine colour directives (`<{%reset%}>`) and terminal escapes, removed. */
function plain(text: string): string {
  return text.replace(/<\{%[^%]*%\}>/g, "").replace(/\u001b\[[0-9;]*m/g, "");
}

/** The lines of a diagnostic that are the probe's: its result line, or its `[<check>] …` failure summary. */
function probeLines(check: string, message: string): string[] {
  return plain(message)
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => (l.startsWith("{") && l.includes('"check"')) || l.startsWith(`[${check}] `));
}

/** The probe's failure summary (`[<check>] FAILED after 3 attempt(s): …`), without the check's name. */
function failureSummary(check: string, said: readonly string[]): string | undefined {
  const line = [...said].reverse().find((l) => l.startsWith(`[${check}] `));
  return line?.slice(check.length + 3);
}

function sameResult(a: CheckResult, b: CheckResult): boolean {
  return a.ok === b.ok && a.attempts === b.attempts && a.elapsedMs === b.elapsedMs && a.detail === b.detail;
}

function oneLine(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** `0.4 s`, `12.3 s`. */
function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** `204 ms`, `1.5 s`. */
function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : seconds(ms);
}

/** The line a person reads for a progress event. Pure. */
export function progressLine(e: ProgressEvent): string {
  if (e.event === "step") {
    if (e.phase === "start") return `▶ ${e.step}  started`;
    const engine =
      e.engineMs !== undefined ? `; then ${seconds(e.engineMs)} engine start, refresh and policy` : "";
    return e.status === "done"
      ? `✔ ${e.step}  done (${seconds(e.ms)}${engine})`
      : `✖ ${e.step}  failed (${seconds(e.ms)}${engine})${e.detail !== undefined ? `: ${e.detail}` : ""}`;
  }
  if (e.phase === "start") return `  ▶ check ${e.check} … started`;
  const attempts =
    e.attempts !== undefined ? `${e.attempts} ${e.attempts === 1 ? "attempt" : "attempts"}, ` : "";
  const took = `(${attempts}${duration(e.ms)})`;
  if (e.status === "ok") {
    // An inconclusive metric check that production would fail passes elsewhere: say so.
    const note = e.detail?.startsWith("inconclusive") === true ? `: ${e.detail}` : "";
    return `  ✔ check ${e.check} … ok ${took}${note}`;
  }
  return `  ✖ check ${e.check} … failed ${took}${e.detail !== undefined ? `: ${e.detail}` : ""}`;
}

/** The progress of one update as the CLI reports it. */
export interface StepProgress {
  /** Passes an engine event (the Automation API's `onEvent`). */
  readonly onEvent: (e: ProgressEventSource) => void;
  /** The engine update starts now (the gate's own work ends). */
  readonly engineStarted: () => void;
  /** Tells the ends not told yet; `ok`: the update succeeded. */
  readonly finish: (ok: boolean) => void;
}

/**
 * Starts reporting an update's progress (the gate's start first): lines for people on stderr, beside the engine's
 * own output, or with `json` one JSON object per event on stdout. `startedAt`: when the command started (the gate's
 * start).
 */
export function stepProgress(o: {
  readonly kind: UpdateKind;
  readonly startedAt: number;
  readonly json?: boolean;
  readonly write?: (text: string) => void;
  readonly now?: () => number;
}): StepProgress {
  const tracker = new ProgressTracker(o.kind, o.startedAt, parseCheckResult);
  const json = o.json === true;
  const write = o.write ?? (json ? (text: string) => void process.stdout.write(text) : progressLines);
  const now = o.now ?? Date.now;
  const say = (events: readonly ProgressEvent[]) => {
    for (const e of events) write(`${json ? JSON.stringify(e) : progressLine(e)}\n`);
  };
  say(tracker.begin());
  return {
    onEvent: (e) => say(tracker.observe(e, now())),
    engineStarted: () => tracker.engineStarted(now()),
    finish: (ok) => say(tracker.finish(ok, now())),
  };
}
