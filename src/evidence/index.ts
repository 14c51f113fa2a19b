/** The evidence model: one definition of "ready" for the CLI and the policy pack. */
export * from "./model";
export * from "./paths";
export * from "./reader";
export * from "./verifier";
export * from "./report";
export * from "../config/stack-view";
export * from "./collector";
export * from "./artifact-files";
export * from "./preflight-files";
export {
  APP_CHECK_IDS,
  type AppCheckId,
  DEFAULT_READINESS_COMMANDS,
  redact,
  spawnCommand,
  type CommandOutcome,
  type CommandRunner,
} from "./app-checkout";
export { DEFAULT_COVERAGE_THRESHOLDS, type CoverageThresholds } from "./checks/coverage";
export { DEFAULT_DRILL_MAX_AGE_DAYS } from "./checks/billing-drill";
export { type RegistryAccess } from "./checks/registry";
export { automationHistory, type StagingHistoryFn, type StagingUpdate } from "./checks/staging-stack";
export * from "./records";
export * from "./enforcement";
export * from "./stack-class";
export * from "./gate";
export * from "./signing";
export * from "./sshsig";
export * from "./trust";
export * from "./signed";
export * from "./override-rules";
