export * from "./schema";
export * from "./settings";
export * from "./stack-file";
export * from "./inspect";
export * from "./stack-view";
