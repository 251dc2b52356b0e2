// Command alloy is Grafana Alloy's command line, built from the pinned upstream module.
// Upstream's own main lives in the module root, which Go cannot install as a tool from
// another module, so this one calls the same root command (flowcmd is Alloy's public
// entry point for that purpose).
package main

import (
	"os"

	"github.com/grafana/alloy/flowcmd"
)

func main() {
	if err := flowcmd.RootCommand().Execute(); err != nil {
		os.Exit(1)
	}
}
