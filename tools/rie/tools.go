//go:build tools

// Package rie pins the runtime interface emulator as a tool of this module.
package rie

import _ "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"
