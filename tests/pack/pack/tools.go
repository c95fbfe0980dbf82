//go:build tools

// Package tools pins the pack CLI that the pack suite builds and runs. pack's main
// package is its module root; `go build github.com/buildpacks/pack` in this module uses
// the versions and hashes recorded in go.mod and go.sum.
package tools

import (
	_ "github.com/buildpacks/pack"
)
