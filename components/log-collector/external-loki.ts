/**
 * The log collector's external Loki (logCollector.externalLoki), apart from alloy.ts so that the other additions to its
 * pipeline merge around it: the writer's tenant and credential, and where the stack's own pod logs go.
 */
import { AlloyBlock, AlloyExpr, AlloyValue } from "./alloy-syntax";

/** A Loki-compatible endpoint outside the cluster (logCollector.externalLoki): the stack's own pod logs go there too. */
export interface AlloyExternalLoki {
  /** Its push URL (`…/loki/api/v1/push`). */
  url: string;
  /** The tenant (`X-Scope-OrgID`, Alloy's tenant_id); none: the endpoint's default. */
  tenant?: string;
  /** Basic auth: the user, and the file (a Secret's, mounted) that holds the password. */
  basicAuth?: { username: string; passwordFile: string };
  /** A bearer token, from this file (a Secret's, mounted). */
  bearerTokenFile?: string;
  /** The stack runs no Loki (loki.enabled false): the own logs go to this endpoint alone. */
  only?: boolean;
}

/**
 * The writer of the external endpoint (`writer`: alloy.ts' writer of a Loki, retrying as the stack's own does) with
 * its tenant and credential, and where the stack's own pod logs
 * go: this stack's Loki and the endpoint, or the endpoint alone. Apart from alloyConfig so that other additions to
 * the pipeline merge around it.
 */
export function externalLokiBlocks(external: AlloyExternalLoki, writer: AlloyBlock): { ownTo: AlloyExpr[]; blocks: AlloyBlock[] } {
  const endpoint = (writer.blocks ?? [])[0];
  endpoint.attributes = [
    ...(endpoint.attributes ?? []),
    ...(external.tenant !== undefined ? ([["tenant_id", external.tenant]] as Array<[string, AlloyValue]>) : []),
    ...(external.bearerTokenFile !== undefined ? ([["bearer_token_file", external.bearerTokenFile]] as Array<[string, AlloyValue]>) : []),
  ];
  if (external.basicAuth)
    endpoint.blocks = [
      {
        name: "basic_auth",
        attributes: [
          ["username", external.basicAuth.username],
          ["password_file", external.basicAuth.passwordFile],
        ],
      },
    ];
  return {
    ownTo: [...(external.only ? [] : [new AlloyExpr("loki.write.loki.receiver")]), new AlloyExpr("loki.write.external.receiver")],
    blocks: [writer],
  };
}

export function externalLokiComment(external: AlloyExternalLoki): string {
  const host = new URL(external.url).host;
  return external.only ? `The stack runs no Loki: its pod logs go to ${host} alone.` : `The stack's pod logs also go to ${host}.`;
}
