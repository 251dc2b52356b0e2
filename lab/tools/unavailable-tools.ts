/**
 * Tools that cannot be built here, and why (the table of those that can is lab/tools/tools.ts):
 * said by `npm run tools`, docs/development.md and the notes, so that nobody takes their absence
 * for an oversight.
 */
export const UNAVAILABLE: Array<{ what: string; why: string }> = [
  {
    what: "pulumi-language-nodejs (the Node.js language host)",
    why:
      "its Go module (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3) is not served by the module proxy " +
      "this project's machines reach, at any release; the cluster tier runs the program through the Automation API's " +
      "inline mode, where the CLI talks to a language host inside the test process instead",
  },
  {
    what: "pulumi-resource-random (the random provider)",
    why:
      "its Go module (github.com/pulumi/pulumi-random/provider/v4) is not served at any release; the cluster tier " +
      "supplies every password as a secret so that the stack creates no random resources",
  },
  {
    what: "grafana (the Grafana server, image docker.io/grafana/grafana)",
    why:
      "Grafana's Go module has no /v13 path for its v13 releases, and a build needs cgo (SQLite) and its frontend " +
      "bundle (a Node build of its own): the tests check its provisioning files and dashboards, not the binary",
  },
  {
    what: "sqlite (SQLite's shell, image docker.io/keinos/sqlite3: the Grafana backup's online copy)",
    why:
      "a C program, no Go module: the backups' end-to-end test runs Debian's sqlite3 shell (.ci/system-packages), " +
      "the same .backup and integrity check the image's shell runs",
  },
  {
    what: "pulumi-resource-cloudflare (the Cloudflare provider)",
    why: "its Go module (github.com/pulumi/pulumi-cloudflare/provider/v6) is not served at any release; the tunnel stays off",
  },
];
