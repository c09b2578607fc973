import js from "@eslint/js";
import tseslint from "typescript-eslint";
import importX, { createNodeResolver } from "eslint-plugin-import-x";

/**
 * The layers of lib/, bottom to top (README, "Layers"): core; security (its rules read steps,
 * and a construct above may suppress one); hosts; platform; services; cluster; then
 * lib/index.ts and bin/. A file may import its own layer and those below, never one above.
 */
const LAYERS = ["core", "security", "hosts", "platform", "services", "cluster"];

function upwardImports(layer) {
  const above = LAYERS.slice(LAYERS.indexOf(layer) + 1);
  // Relative specifiers: `../services/nova`, `../../cluster/components`, `../index`, `../../bin/cli`.
  const names = [...above, "index", "bin"].join("|");
  return {
    files: [`lib/${layer}/**/*.ts`],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: `^(\\.\\./)+(${names})(/|$)`,
              message: `lib/${layer} may not import from a layer above it (${above.join(", ")}, lib/index.ts, bin/): pass what it needs down instead.`,
            },
          ],
        },
      ],
    },
  };
}

export default tseslint.config(
  {
    ignores: [
      "node_modules/",
      "cdktf.out/",
      "dist/",
      "docs/api/",
      "coverage/",
      ".lab/",
      "scratch/",
      "secrets/",
      "**/*.js",
      "**/*.mjs",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      eqeqeq: "error",
    },
  },
  ...LAYERS.map(upwardImports),
  {
    files: ["lib/**/*.ts"],
    plugins: { "import-x": importX },
    settings: {
      "import-x/resolver-next": [createNodeResolver({ extensions: [".ts"] })],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts"] },
    },
    // Type-only imports count too: a cycle of types is still two files that need each other.
    rules: { "import-x/no-cycle": ["error", { ignoreExternal: true }] },
  },
);
