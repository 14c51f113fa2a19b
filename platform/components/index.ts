export * from "./api-endpoint";
export * from "./artifact-registries";
export * from "./cluster-marker";
export * from "./dump-bucket";
export * from "./gke-cluster";
export * from "./platform-secrets";
export * from "./workload-identity";
