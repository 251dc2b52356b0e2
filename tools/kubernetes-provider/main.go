// Command pulumi-resource-kubernetes serves the Kubernetes resource provider of the pinned
// pulumi-kubernetes release. Upstream's own main package embeds a schema file that its
// release build generates and the Go module does not ship, so `npm run tools` writes that
// file here (from the module's schema.json, stamped with the release) and builds this
// package instead: the provider itself is upstream's, unchanged.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
