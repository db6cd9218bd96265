//go:build tools

// Package tools names what `npm run pulumi-cli` builds beside the CLI: the YAML language host.
package tools

import _ "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml"
