// Command cyclonus-matcher answers "may this connection be opened?" for a set of NetworkPolicies with the policy engine
// of github.com/mattfenwick/cyclonus (package pkg/matcher, the model cyclonus checks CNIs against), so that the
// reachability matrix (docs/reachability.yml, test/e2e/reachability.test.ts) is evaluated by that implementation of
// the NetworkPolicy semantics, not by a look-alike of ours.
//
// Input on stdin: {"policies": [<networking.k8s.io/v1 NetworkPolicy>...], "queries": [<matcher.Traffic>...]}, a query
// being {"Source": peer, "Destination": peer, "ResolvedPort": 9090, "ResolvedPortName": "", "Protocol": "TCP"} and a
// peer {"Internal": {"Namespace": "...", "NamespaceLabels": {...}, "PodLabels": {...}}} (a pod) or {"IP": "..."} (an
// address outside the pods). Output on stdout: a JSON array, one answer per query in order:
// {"ingress": bool, "egress": bool, "allowed": bool, "ingressBy": [...], "egressBy": [...]}, where ingress says whether
// the destination's policies admit it, egress whether the source's let it out, and the *By lists name the policies
// (namespace/name) that select the pod and allow it. `cyclonus-matcher --version` prints the library's module version.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"

	"github.com/mattfenwick/cyclonus/pkg/matcher"
	networkingv1 "k8s.io/api/networking/v1"
)

const library = "github.com/mattfenwick/cyclonus"

type input struct {
	Policies []*networkingv1.NetworkPolicy `json:"policies"`
	Queries  []*matcher.Traffic            `json:"queries"`
}

type answer struct {
	Ingress   bool     `json:"ingress"`
	Egress    bool     `json:"egress"`
	Allowed   bool     `json:"allowed"`
	IngressBy []string `json:"ingressBy"`
	EgressBy  []string `json:"egressBy"`
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

// names lists the policies behind the targets that allowed a direction, each once, sorted.
func names(targets []*matcher.Target) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, t := range targets {
		for _, rule := range t.SourceRules {
			name := rule.Namespace + "/" + rule.Name
			if !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	sort.Strings(out)
	return out
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) > 1 {
		if os.Args[1] == "--version" {
			fmt.Printf("cyclonus-matcher %s %s\n", library, libraryVersion())
			return
		}
		fmt.Fprintln(os.Stderr, "usage: cyclonus-matcher [--version] < {\"policies\": [...], \"queries\": [...]}")
		os.Exit(2)
	}
	raw, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail("reading stdin: %v", err)
	}
	var in input
	if err := json.Unmarshal(raw, &in); err != nil {
		fail("stdin is not {\"policies\": [...], \"queries\": [...]}: %v", err)
	}
	for i, p := range in.Policies {
		if p == nil || p.Kind != "NetworkPolicy" || p.Name == "" || p.Namespace == "" {
			fail("policies[%d] is not a NetworkPolicy with a name and a namespace", i)
		}
		// The API server fills in policyTypes; the library panics without them.
		if len(p.Spec.PolicyTypes) == 0 {
			fail("policies[%d] (%s/%s) has no spec.policyTypes", i, p.Namespace, p.Name)
		}
	}
	for i, q := range in.Queries {
		if q == nil || q.Source == nil || q.Destination == nil || q.ResolvedPort <= 0 || q.Protocol == "" {
			fail("queries[%d] needs a Source, a Destination, a ResolvedPort and a Protocol", i)
		}
	}
	// Unsimplified: each policy as written (BuildNetworkPolicies' simplify merges targets without changing what they allow).
	policy := matcher.BuildNetworkPolicies(false, in.Policies)
	answers := make([]answer, len(in.Queries))
	for i, q := range in.Queries {
		result := policy.IsTrafficAllowed(q)
		answers[i] = answer{
			Ingress:   result.Ingress.IsAllowed(),
			Egress:    result.Egress.IsAllowed(),
			Allowed:   result.IsAllowed(),
			IngressBy: names(result.Ingress.AllowingTargets),
			EgressBy:  names(result.Egress.AllowingTargets),
		}
	}
	out, err := json.Marshal(answers)
	if err != nil {
		fail("writing the answers: %v", err)
	}
	fmt.Println(string(out))
}
