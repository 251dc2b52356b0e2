/**
 * A staging stack deployed by release 0.1.0's own program, from the staging stack file of 0.1.0's
 * commit, upgraded to HEAD: support/upgrade.ts says what is asserted.
 */
import { describeUpgrade } from "./support/upgrade";

describeUpgrade({
  version: "0.1.0",
  stackName: "staging",
  stackFile: "git:Pulumi.staging.yaml",
  team: "shop-staging",
  secrets: {
    grafanaAdminPassword: "upgrade-staging-grafana-admin-password",
    discordWebhookUrl: "https://discord.com/api/webhooks/1/staging-warnings",
    discordCriticalWebhookUrl: "https://discord.com/api/webhooks/2/staging-critical",
    "basicAuthPasswords.admin": "upgrade-staging-basic-auth-password",
  },
  protectedVolumes: false,
});
