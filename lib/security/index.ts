export * from "./rule";
export * from "./rules";
export * from "./settings";
export * from "./suppressions";
export * from "./security-checks";
