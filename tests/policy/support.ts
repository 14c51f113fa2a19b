/**
 * The setup every policy test file shares: a fresh fixture project per test (cleaned up after it) and the policy
 * runtime pinned to the fixture clock, an empty environment and no upward project search.
 */
import { afterEach, beforeEach } from "vitest";
import { type PolicyRuntime, setPolicyRuntime } from "../../policy/policies/common";
import { makeProject, NOW, type ProjectFixture, type ProjectOptions } from "./fixtures";

/** The runtime every policy test starts with. */
export const FIXTURE_RUNTIME: PolicyRuntime = { now: () => NOW, env: {}, searchStarts: [] };

export interface PolicyTestContext {
  /** This test's project. */
  readonly project: ProjectFixture;
  /** Replaces this test's project with a fresh one made with `opts`; returns it. */
  remakeProject(opts?: ProjectOptions): ProjectFixture;
  /** Replaces the policy runtime with `FIXTURE_RUNTIME` overlaid by `partial` (until the test ends). */
  setRuntime(partial: Partial<PolicyRuntime>): void;
}

/** Registers the per-test setup and teardown in the calling test file. */
export function usePolicyTestContext(): PolicyTestContext {
  let project: ProjectFixture | undefined;
  let restore: (() => void) | undefined;
  beforeEach(() => {
    project = makeProject();
    restore = setPolicyRuntime(FIXTURE_RUNTIME);
  });
  afterEach(() => {
    restore?.();
    restore = undefined;
    project?.cleanup();
    project = undefined;
  });
  return {
    get project(): ProjectFixture {
      if (project === undefined) {
        throw new Error("the policy test project exists only while a test runs");
      }
      return project;
    },
    remakeProject(opts?: ProjectOptions): ProjectFixture {
      project?.cleanup();
      project = makeProject(opts);
      return project;
    },
    setRuntime(partial: Partial<PolicyRuntime>): void {
      restore?.();
      restore = setPolicyRuntime({ ...FIXTURE_RUNTIME, ...partial });
    },
  };
}
