export * from "./app-secrets";
export * from "./cluster-connection";
export * from "./database-safeguards";
export * from "./nova-release";
export * from "./post-deploy-verification";
export * from "./release-images";
export * from "./release-namespace";
export * from "./scheduled-jobs";
