// ESLint flat config: typescript-eslint's recommended rules plus Pulumi's own.
import tseslint from "typescript-eslint";
import pulumi from "@pulumi/eslint-plugin";

export default tseslint.config(
  { ignores: ["node_modules/", "out/", "bin/", "coverage/", ".tools/", "**/*.js", "**/*.mjs"] },
  ...tseslint.configs.recommended,
  {
    // Pulumi's rules need type information: an Output in a template literal is a bug only the types reveal.
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { "@pulumi": pulumi },
    rules: {
      "@pulumi/no-output-in-template-literal": "error",
      "@pulumi/no-output-instance-in-template-literal": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      // `total += await task()` reads total before the await: tasks running side by side lose each other's sums.
      "require-atomic-updates": ["error", { allowProperties: true }],
    },
  },
);
