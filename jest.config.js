const os = require("os");

/** @type {import('jest').Config} */
module.exports = {
  // Jest's default is one worker fewer than the cores: one on CI's 2 cores, where two took the
  // suites from 174 s to 134 s (much of their time is in child processes: shellcheck, python).
  maxWorkers: Math.max(2, os.cpus().length - 1),
  preset: "ts-jest",
  testEnvironment: "node",
  // examples/own-stack is a user's app with its own test: it imports "openstack-cdktf", which is lib/ here.
  roots: ["<rootDir>/test", "<rootDir>/examples"],
  moduleNameMapper: { "^openstack-cdktf$": "<rootDir>/lib/index.ts" },
  testMatch: ["**/*.test.ts"],
  // tsconfig's isolatedModules: ts-jest transpiles each file alone, and tsc does the type check
  // (153 s -> 134 s with two workers).
  transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
  testTimeout: 120000,
};
