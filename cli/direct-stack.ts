/**
 * A stack as the rollout CLI acts on it: what every release and rollback does (read the config and history, write
 * config, export the state, `up`) runs `pulumi` directly ({@link runEngine}); what only `recover`, `status` and a
 * rollback preview do (refresh, preview, cancel, outputs) goes through the Automation API, loaded on first use.
 * Same arguments, environment and results as the Automation API's `Stack`, so callers and errors are unchanged.
 */
import type {
  ConfigMap,
  Deployment,
  EngineEvent,
  OutputMap,
  PreviewOptions,
  PreviewResult,
  RefreshOptions,
  RefreshResult,
  Stack,
  UpdateSummary,
} from "@pulumi/pulumi/automation";
import { packFlags, runEngine, type EngineEventJson } from "./engine-run";

/** The options of {@link DirectStack.up} (those of the Automation API's `up` the CLI uses). */
export interface DirectUpOptions {
  readonly policyPacks?: string[];
  readonly policyPackConfigs?: string[];
  readonly message?: string;
  readonly refresh?: boolean;
  readonly replace?: string[];
  readonly onOutput?: (out: string) => void;
  readonly onEvent?: (event: EngineEvent) => void;
}

/** What a finished `up` says: the stack's outputs (secrets flagged, never shown) and its resource changes. */
export interface DirectUpResult {
  readonly outputs: OutputMap;
  readonly summary: { readonly resourceChanges?: Readonly<Record<string, number>> };
}

/** The key of the engine's secret signature: a value the event log blinds is an object holding it. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** The root stack's outputs as an event log writes them (secrets blinded), flagged as the Automation API flags them. */
export function outputsOfEvent(outputs: Readonly<Record<string, unknown>>): OutputMap {
  return Object.fromEntries(
    Object.entries(outputs).map(([key, value]) => {
      const secret = typeof value === "object" && value !== null && SECRET_SIG in value;
      return [key, secret ? { value: undefined, secret: true } : { value, secret: false }];
    }),
  );
}

/** The root stack's outputs from an `up`'s events (its resource-outputs event), if the engine wrote them. */
function rootOutputs(event: EngineEventJson): OutputMap | undefined {
  const md = (
    event as {
      resOutputsEvent?: { metadata?: { type?: string; new?: { outputs?: Record<string, unknown> } } };
    }
  ).resOutputsEvent?.metadata;
  return md?.type === "pulumi:pulumi:Stack" && md.new?.outputs !== undefined
    ? outputsOfEvent(md.new.outputs)
    : undefined;
}

export class DirectStack {
  private automationStack: Promise<Stack> | undefined;

  constructor(
    readonly name: string,
    private readonly projectDir: string,
    private readonly pulumi: string,
    private readonly env: Readonly<Record<string, string>>,
    private readonly openAutomationStack: () => Promise<Stack>,
  ) {}

  private run(verb: readonly string[], flags: readonly string[] = []): Promise<string> {
    return runEngine(this.name, this.pulumi, verb, flags, { env: this.env, cwd: this.projectDir });
  }

  private automation(): Promise<Stack> {
    this.automationStack ??= this.openAutomationStack();
    return this.automationStack;
  }

  /** Every config value, secrets decrypted (in memory only). */
  async getAllConfig(): Promise<ConfigMap> {
    return JSON.parse(await this.run(["config"], ["--show-secrets", "--json"])) as ConfigMap;
  }

  /** A page of the stack's history, newest first (`pulumi stack history`; times as dates). */
  async history(pageSize?: number, page?: number, showSecrets?: boolean): Promise<UpdateSummary[]> {
    const flags = ["--json", ...((showSecrets ?? true) ? ["--show-secrets"] : [])];
    if (pageSize !== undefined && pageSize > 0) {
      flags.push(
        "--page-size",
        String(Math.floor(pageSize)),
        "--page",
        String(Math.max(1, Math.floor(page ?? 1))),
      );
    }
    const text = await this.run(["stack", "history"], flags);
    return JSON.parse(text, (key, value: unknown) =>
      (key === "startTime" || key === "endTime") && typeof value === "string" ? new Date(value) : value,
    ) as UpdateSummary[];
  }

  async setAllConfigJson(configJson: string): Promise<void> {
    await this.run(["config", "set-all"], ["--json", configJson]);
  }

  async removeConfig(key: string): Promise<void> {
    await this.run(["config", "rm", key]);
  }

  /**
   * The stack's state with its secrets left encrypted: what the CLI reads of it (the verification commands' URNs,
   * pending operations) needs no secret, so none is decrypted or held in memory, and no key is derived for it.
   */
  async exportStack(): Promise<Deployment> {
    return JSON.parse(await this.run(["stack", "export"])) as Deployment;
  }

  /**
   * `pulumi up` with the engine's events streamed to `onEvent` as they are written; the outputs and the change summary
   * come from those events (no `stack output` or `stack history` run after it, unlike the Automation API).
   */
  async up(o: DirectUpOptions = {}): Promise<DirectUpResult> {
    let outputs: OutputMap | undefined;
    let resourceChanges: Record<string, number> | undefined;
    const flags = [
      "--yes",
      "--skip-preview",
      ...(o.message !== undefined ? ["--message", o.message] : []),
      ...(o.refresh === true ? ["--refresh"] : []),
      ...(o.replace ?? []).flatMap((urn) => ["--replace", urn]),
      ...packFlags({ policyPacks: o.policyPacks ?? [], policyPackConfigs: o.policyPackConfigs ?? [] }),
    ];
    await runEngine(this.name, this.pulumi, ["up"], flags, {
      env: this.env,
      cwd: this.projectDir,
      ...(o.onOutput !== undefined ? { onOutput: o.onOutput } : {}),
      onEvent: (e) => {
        outputs = rootOutputs(e) ?? outputs;
        const summary = (e as { summaryEvent?: { resourceChanges?: Record<string, number> } }).summaryEvent;
        if (summary !== undefined) resourceChanges = summary.resourceChanges ?? {};
        o.onEvent?.(e as unknown as EngineEvent);
      },
    });
    return {
      // An engine that wrote no outputs event for the root stack: ask for them as the Automation API does.
      outputs: outputs ?? (await this.outputs()),
      summary: resourceChanges !== undefined ? { resourceChanges } : {},
    };
  }

  async preview(o?: PreviewOptions): Promise<PreviewResult> {
    return (await this.automation()).preview(o);
  }

  async refresh(o?: RefreshOptions): Promise<RefreshResult> {
    return (await this.automation()).refresh(o);
  }

  async cancel(): Promise<void> {
    return (await this.automation()).cancel();
  }

  async outputs(): Promise<OutputMap> {
    return (await this.automation()).outputs();
  }
}

/** What the actions use of a stack: a {@link DirectStack}, or anything shaped like the Automation API's `Stack`. */
export type EngineStack = Pick<
  DirectStack,
  | "name"
  | "getAllConfig"
  | "history"
  | "up"
  | "setAllConfigJson"
  | "removeConfig"
  | "exportStack"
  | "preview"
  | "refresh"
  | "cancel"
  | "outputs"
>;
