// Package rules holds trailwarden's built-in detection rules: Sigma files
// under builtin/, shipped in the repository so users can read, copy and
// disable them, and embedded in the binary.
package rules

import "embed"

// Builtin holds builtin/*.yml.
//
//go:embed builtin/*.yml
var Builtin embed.FS

// BuiltinRoot is the folder of Builtin that holds the rules.
const BuiltinRoot = "builtin"
