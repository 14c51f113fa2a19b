/**
 * The shared vocabulary of the rollout: names and formats that the program, the components, the policy pack, the
 * evidence model and the CLI must agree on (see docs/architecture.md). A leaf: it imports nothing of the project.
 */
export * from "./images";
export * from "./names";
export * from "./platform";
export * from "./playbook";
export * from "./policies";
export * from "./release";
export * from "./thresholds";
