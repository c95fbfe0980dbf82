//go:build tools

// Package tools pins the CNB lifecycle that the end-to-end tests build and run.
// `go build` of the two commands below, in this module, uses the versions and hashes
// recorded in go.mod and go.sum.
package tools

import (
	_ "github.com/buildpacks/lifecycle/cmd/launcher"
	_ "github.com/buildpacks/lifecycle/cmd/lifecycle"
)
