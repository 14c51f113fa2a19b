/**
 * Builds the gate input of a stack: its settings, the committed enforcement and the stack's class. The program guard
 * and the CLI start from the flat config map; the policy pack from the settings it resolved and the evidence directory
 * its config names.
 */
import { classifySettings } from "../stack-class";
import {
  EnforcementConfigError,
  loadProductionEnforcement,
  type ProductionEnforcement,
} from "../enforcement";
import { evidenceDirOf, settingsFromConfigMap, type SettingsResult } from "../../config/stack-view";
import { type GateInput } from "./input";

/** The gate input, or why the committed enforcement cannot be read (every stack then counts as production). */
export type GateInputResult = GateInput | { readonly enforcementError: string };

/**
 * The gate input of a stack whose settings are resolved: the committed enforcement and the stack's class (production
 * follows the target). `evidenceDir` (absolute) defaults to the stack's `evidenceDir`, else the committed one.
 */
export function gateInputOfSettings(opts: {
  readonly stack: string;
  readonly settings: SettingsResult;
  readonly projectDir: string;
  readonly now: Date;
  readonly evidenceDir?: string;
}): GateInputResult {
  let enforcement: ProductionEnforcement;
  try {
    enforcement = loadProductionEnforcement(opts.projectDir);
  } catch (e) {
    if (!(e instanceof EnforcementConfigError)) throw e;
    return { enforcementError: e.message };
  }
  const { settings } = opts;
  const evidenceDir =
    opts.evidenceDir ??
    evidenceDirOf(
      { projectDir: opts.projectDir, appDir: settings.ok ? settings.settings.appDir : undefined },
      settings.ok ? settings.settings.evidenceDir : undefined,
      enforcement.baseline.evidenceDir,
    );
  return {
    stack: opts.stack,
    settings,
    projectDir: opts.projectDir,
    evidenceDir,
    enforcement,
    stackClass: classifySettings(settings, opts.projectDir, enforcement),
    now: opts.now,
  };
}

/**
 * The gate input of a stack from its flat config map (the engine's, or its stack file's): settings through the
 * program's schema, the committed enforcement and the stack's class. Returns the enforcement error when the committed
 * enforcement cannot be read.
 */
export function gateInputFor(opts: {
  readonly stack: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly projectDir: string;
  readonly now: Date;
}): GateInputResult {
  return gateInputOfSettings({
    stack: opts.stack,
    settings: settingsFromConfigMap(opts.stack, opts.config, "the stack config", opts.projectDir),
    projectDir: opts.projectDir,
    now: opts.now,
  });
}
