/**
 * A production stack deployed by release 0.1.0's own program, from 0.1.0's production stack file
 * (test/fixtures/releases/), upgraded to HEAD: support/upgrade.ts says what is asserted.
 */
import { describeUpgrade } from "./support/upgrade";

describeUpgrade({
  version: "0.1.0",
  stackName: "production",
  stackFile: "test/fixtures/releases/0.1.0-Pulumi.production.yaml",
  team: "shop",
  secrets: {
    grafanaAdminPassword: "upgrade-production-grafana-admin-password",
    discordWebhookUrl: "https://discord.com/api/webhooks/0/production",
    "basicAuthPasswords.admin": "upgrade-production-basic-auth-password",
  },
  protectedVolumes: true,
});
