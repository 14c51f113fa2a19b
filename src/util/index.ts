/** Small pure helpers that know nothing of the rollout: shell quoting, hashing, names, URLs. */
export * from "./canonical-json";
export * from "./hash";
export * from "./shell";
export * from "./text";
export * from "./url";
