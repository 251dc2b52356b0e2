// Package ext stands in for Traefik's dynamic-configuration extension module, which Traefik's
// go.mod takes from a folder of its own repository (a replace to ./pkg/config/dynamic/ext) and
// which neither its module zip nor the module proxy carries. At v3.7.13 it declares two empty
// types that Traefik's dynamic configuration embeds; so does this one.
package ext

// HTTP is embedded in Traefik's dynamic HTTP configuration.
type HTTP struct{}

// Router is embedded in Traefik's HTTP router configuration.
type Router struct{}
