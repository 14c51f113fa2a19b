/** The Nova RMS playbook's own commands, as its steps name them (run in the app checkout, `nova-rollout:appDir`). */
export const PLAYBOOK_COMMANDS = {
  drillCheck: "pnpm drill:check:staging",
  stagingDrill: "pnpm drill:billing --env-file tests/drills/staging.drill.env",
  productionDrill: "pnpm drill:billing --env-file tests/drills/production.drill.env",
  seed: "pnpm seed:sample-data",
  e2e: "pnpm test:e2e --project=chromium",
  coverage: "pnpm test:coverage",
  migrate: "pnpm --filter @nova/api db:migrate",
} as const;

/**
 * A CI schedule the release pauses (`nova-rollout:ciSchedules`): a GitHub Actions workflow file of a repository,
 * `owner/repo:workflow.yml` (`.github/workflows/<file>`).
 */
export const WORKFLOW_REF_PATTERN = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+):([A-Za-z0-9_.-]+\.ya?ml)$/;
