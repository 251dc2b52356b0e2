// Command jmespath evaluates JMESPath expressions with github.com/jmespath-community/go-jmespath, the library
// Grafana's OAuth and JWT sign-in evaluates role_attribute_path, groups_attribute_path and the other
// *_attribute_path settings with, at v1.1.1, the library's one release and the version Grafana's go.mod requires
// (read in a 2025 go.mod of grafana/grafana; the 13.2.0 tag's could not be read here). The sign-in lab (test/live/sign-in.test.ts)
// runs it on the claims of real tokens, so the rendered expressions are evaluated by that implementation, not by
// a look-alike.
//
// Input on stdin: a JSON array of {"expression": "...", "data": <any JSON>}. Output on stdout: a JSON array, one
// {"result": <JSON>} or {"error": "..."} per query, in order. `jmespath --version` prints the library's module
// version, read from the binary's build information.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	jmespath "github.com/jmespath-community/go-jmespath"
)

const library = "github.com/jmespath-community/go-jmespath"

type query struct {
	Expression string `json:"expression"`
	Data       any    `json:"data"`
}

type answer struct {
	Result any    `json:"result"`
	Error  string `json:"error,omitempty"`
}

func libraryVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(no build information)"
	}
	for _, dep := range info.Deps {
		if dep.Path == library {
			return dep.Version
		}
	}
	return "(not linked)"
}

func main() {
	if len(os.Args) > 1 {
		if os.Args[1] == "--version" {
			fmt.Printf("jmespath (sign-in lab) %s %s\n", library, libraryVersion())
			return
		}
		fmt.Fprintln(os.Stderr, "usage: jmespath [--version] < queries.json")
		os.Exit(2)
	}
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "reading stdin:", err)
		os.Exit(1)
	}
	var queries []query
	if err := json.Unmarshal(input, &queries); err != nil {
		fmt.Fprintln(os.Stderr, "stdin is not a JSON array of {expression, data}:", err)
		os.Exit(1)
	}
	answers := make([]answer, len(queries))
	for i, q := range queries {
		result, err := jmespath.Search(q.Expression, q.Data)
		if err != nil {
			answers[i] = answer{Error: err.Error()}
			continue
		}
		answers[i] = answer{Result: result}
	}
	if err := json.NewEncoder(os.Stdout).Encode(answers); err != nil {
		fmt.Fprintln(os.Stderr, "writing stdout:", err)
		os.Exit(1)
	}
}
