// Lint: typescript-eslint (type-aware) plus Pulumi's rules against Outputs in template literals.
import tseslint from "typescript-eslint";
import pulumi from "@pulumi/eslint-plugin";

// The architecture rules of docs/architecture.md#rules, one entry per rule. A relative specifier is matched as it is
// written, so each pattern climbs any number of `../` to the folder it forbids (`../../cli/x` from `src/comms/`,
// `../../../cli/x` from a folder below). `require()`, `import()` and `typeof import()` are held to the same patterns.
const CLIMB = String.raw`^(?:\./)?(?:\.\./)+`;
const ARCHITECTURE_RULES = [
  {
    id: "R1",
    files: ["src/**/*.ts"],
    forbidden: String.raw`${CLIMB}cli(?:/|$)`,
    message: "src/ never imports cli/; what both need lives in src/",
  },
  {
    id: "R2",
    files: ["components/**/*.ts"],
    forbidden: String.raw`${CLIMB}(?:src/config|src/evidence|tools)(?:/|$)`,
    message: "components take typed Args; they never read config or evidence, nor import tools/",
  },
  {
    id: "R3",
    files: ["policy/**/*.ts"],
    forbidden: String.raw`${CLIMB}(?:cli|tools|src/config)(?:/|$)`,
    message: "the policy pack reads stacks through src/evidence; it never imports cli/, tools/ or src/config",
  },
  {
    // Matched after R1 (flat config keeps the last options of a rule), and stricter: leaving the folder at all.
    id: "R4",
    files: ["src/contract/**/*.ts"],
    forbidden: String.raw`^(?!node:|\./(?!.*\.\./))`,
    message: "src/contract is the leaf vocabulary; it imports only its own files and node: built-ins",
  },
];

const ruleMessage = (rule) => `architecture rule ${rule.id} (docs/architecture.md#rules): ${rule.message}`;
// esquery reads a regex literal up to the next `/`, so selectors spell the slash as \x2F.
const selectorRegex = (rule) => rule.forbidden.replaceAll("/", String.raw`\x2F`);
const architectureBlocks = ARCHITECTURE_RULES.map((rule) => ({
  files: rule.files,
  rules: {
    "no-restricted-imports": ["error", { patterns: [{ regex: rule.forbidden, message: ruleMessage(rule) }] }],
    "no-restricted-syntax": [
      "error",
      ...[
        `CallExpression[callee.name="require"][arguments.0.value=/${selectorRegex(rule)}/]`,
        `ImportExpression[source.value=/${selectorRegex(rule)}/]`,
        `TSImportType[source.value=/${selectorRegex(rule)}/]`,
      ].map((selector) => ({ selector, message: ruleMessage(rule) })),
    ],
  },
}));

export default tseslint.config(
  {
    ignores: [
      "node_modules/",
      "dist/",
      "coverage/",
      ".pulumi-local/",
      ".sandbox/",
      "policy/node_modules/",
      "charts/",
      "tools/**/*.mjs",
      "**/*.js",
    ],
  },
  ...tseslint.configs.recommendedTypeChecked.map((c) => ({ ...c, files: ["**/*.ts", "**/*.mts"] })),
  {
    files: ["**/*.ts", "**/*.mts"],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { "@pulumi": pulumi },
    rules: {
      "@pulumi/no-output-in-template-literal": "error",
      "@pulumi/no-output-instance-in-template-literal": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": [
        "error",
        // `typeof import(...)` types the modules tests import after installing mocks.
        { fixStyle: "inline-type-imports", disallowTypeAnnotations: false },
      ],
      "@typescript-eslint/no-floating-promises": "error",
      eqeqeq: ["error", "always"],
      "no-console": "off",
    },
  },
  ...architectureBlocks,
  {
    files: ["tests/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
    },
  },
);
