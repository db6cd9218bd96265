//go:build tools

// Package tools names what `npm run pulumi-cli` builds: the pulumi command.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
