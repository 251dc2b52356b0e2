/**
 * CustomResourceDefinitions for Traefik's traefik.io/v1alpha1 kinds, so that the stack's
 * IngressRoutes and Middlewares meet the same API a k3s cluster with Traefik offers.
 *
 * They are built from @kubernetes-models/traefik (a devDependency), which is generated
 * from Traefik's own CRDs. The package ships its schemas only as compiled validators,
 * so the schema is read back from its type declarations (`traefik.io/v1alpha1/<Kind>.d.ts`):
 * object literals become objects with `required` for non-optional fields, `Array<T>`
 * arrays, string-literal unions enums, `number | string` int-or-string, an index
 * signature `additionalProperties`, and the doc comments descriptions.
 *
 * What the declarations lose: `number` cannot tell integer from number, so such fields
 * are `type: number` (every integer Traefik accepts is accepted, and so is 1.5). Anything
 * that would not make a structural schema (a union of object types, `any`, an object with
 * both fields and an index signature) falls back to x-kubernetes-preserve-unknown-fields
 * for that subtree; today only Middleware's `plugin` values do.
 *
 * ServersTransportTCP is not in the package (its schemas stop at Traefik 2.10); it is
 * installed with a spec that keeps unknown fields, so objects of that kind are accepted
 * but not validated.
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { KubeObject } from "./kube";

export const TRAEFIK_GROUP = "traefik.io";
export const TRAEFIK_VERSION = "v1alpha1";

/** Every kind a k3s Traefik (v3) installs in traefik.io/v1alpha1. */
export const TRAEFIK_KINDS = [
  "IngressRoute",
  "IngressRouteTCP",
  "IngressRouteUDP",
  "Middleware",
  "MiddlewareTCP",
  "ServersTransport",
  "ServersTransportTCP",
  "TLSOption",
  "TLSStore",
  "TraefikService",
] as const;

/** An OpenAPI v3 schema as a CRD takes it. */
export type Schema = { [key: string]: unknown };

const PRESERVE: Schema = { "x-kubernetes-preserve-unknown-fields": true };

/** Where the package keeps its declarations, or undefined when it is not installed. */
function declarationsDir(): string | undefined {
  try {
    return path.join(path.dirname(require.resolve("@kubernetes-models/traefik/package.json")), "traefik.io", TRAEFIK_VERSION);
  } catch {
    return undefined;
  }
}

function describe(node: ts.Node): string | undefined {
  const text = ts
    .getJSDocCommentsAndTags(node)
    .filter(ts.isJSDoc)
    .map((doc) => ts.getTextOfJSDocComment(doc.comment) ?? "")
    .join("\n")
    .trim();
  return text || undefined;
}

function withDescription(schema: Schema, node: ts.Node): Schema {
  const description = describe(node);
  return description ? { description, ...schema } : schema;
}

function propertyName(name: ts.PropertyName): string {
  if (ts.isStringLiteral(name) || ts.isIdentifier(name) || ts.isNumericLiteral(name)) return name.text;
  throw new Error(`unsupported property name ${name.getText()}`);
}

/** The schema of one type node of the declarations. */
export function schemaOf(type: ts.TypeNode): Schema {
  switch (type.kind) {
    case ts.SyntaxKind.StringKeyword:
      return { type: "string" };
    case ts.SyntaxKind.NumberKeyword:
      return { type: "number" };
    case ts.SyntaxKind.BooleanKeyword:
      return { type: "boolean" };
    case ts.SyntaxKind.AnyKeyword:
    case ts.SyntaxKind.UnknownKeyword:
      return PRESERVE;
  }
  if (ts.isParenthesizedTypeNode(type)) return schemaOf(type.type);
  if (ts.isArrayTypeNode(type)) return { type: "array", items: schemaOf(type.elementType) };
  if (ts.isTypeReferenceNode(type) && type.typeName.getText() === "Array" && type.typeArguments?.length === 1) {
    return { type: "array", items: schemaOf(type.typeArguments[0]) };
  }
  if (ts.isLiteralTypeNode(type) && ts.isStringLiteral(type.literal)) return { type: "string", enum: [type.literal.text] };
  if (ts.isUnionTypeNode(type)) {
    const literals = type.types.filter((t): t is ts.LiteralTypeNode => ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal));
    if (literals.length === type.types.length) return { type: "string", enum: literals.map((t) => (t.literal as ts.StringLiteral).text) };
    const kinds = new Set(type.types.map((t) => t.kind));
    if (kinds.size === 2 && kinds.has(ts.SyntaxKind.NumberKeyword) && kinds.has(ts.SyntaxKind.StringKeyword)) {
      return { anyOf: [{ type: "integer" }, { type: "string" }], "x-kubernetes-int-or-string": true };
    }
    // Not structural as a union: keep the subtree unvalidated.
    return PRESERVE;
  }
  if (ts.isTypeLiteralNode(type)) {
    const properties: Record<string, Schema> = {};
    const required: string[] = [];
    let additional: Schema | undefined;
    for (const member of type.members) {
      if (ts.isPropertySignature(member) && member.type) {
        const name = propertyName(member.name);
        properties[name] = withDescription(schemaOf(member.type), member);
        if (!member.questionToken) required.push(name);
      } else if (ts.isIndexSignatureDeclaration(member)) {
        additional = schemaOf(member.type);
      } else {
        return PRESERVE;
      }
    }
    // A structural schema may not have both properties and additionalProperties.
    if (additional && Object.keys(properties).length > 0) return { type: "object", ...PRESERVE };
    if (additional) return { type: "object", additionalProperties: additional };
    return { type: "object", properties, ...(required.length > 0 ? { required } : {}) };
  }
  return PRESERVE;
}

/** The schema of `spec` and the description of the kind, read from `<Kind>.d.ts`. */
export function specSchemaFromDeclarations(kind: string, dir: string): { spec: Schema; description?: string } | undefined {
  const file = path.join(dir, `${kind}.d.ts`);
  if (!fs.existsSync(file)) return undefined;
  const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
  const iface = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === `I${kind}`);
  if (!iface) throw new Error(`${file}: no interface I${kind}`);
  const spec = iface.members.find((m): m is ts.PropertySignature => ts.isPropertySignature(m) && propertyName(m.name) === "spec");
  if (!spec?.type) throw new Error(`${file}: I${kind} has no spec`);
  return { spec: withDescription(schemaOf(spec.type), spec), description: describe(iface) };
}

/** The CRD of one kind, with `spec` as given. */
export function crdObject(kind: string, spec: Schema, description?: string): KubeObject {
  const plural = `${kind.toLowerCase()}s`;
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.${TRAEFIK_GROUP}` },
    spec: {
      group: TRAEFIK_GROUP,
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase() },
      scope: "Namespaced",
      versions: [
        {
          name: TRAEFIK_VERSION,
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              ...(description ? { description } : {}),
              type: "object",
              properties: {
                apiVersion: { type: "string" },
                kind: { type: "string" },
                metadata: { type: "object" },
                spec,
              },
              required: ["metadata", "spec"],
            },
          },
        },
      ],
    },
  };
}

/** Every Traefik CRD; fails when @kubernetes-models/traefik is not installed (run `npm ci`). */
export function traefikCrds(dir: string | undefined = declarationsDir()): KubeObject[] {
  if (!dir) throw new Error("@kubernetes-models/traefik is not installed: run `npm ci`");
  return TRAEFIK_KINDS.map((kind) => {
    const read = specSchemaFromDeclarations(kind, dir);
    if (read) return crdObject(kind, read.spec, read.description);
    // Not in the package: accepted, not validated (see the header).
    return crdObject(kind, { type: "object", ...PRESERVE });
  });
}
