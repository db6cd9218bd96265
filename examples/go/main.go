// A Go program on the generated Go SDK (sdk/go), run by the Pulumi Automation API as an inline program: no Go
// language plugin is needed, only the CLI and the intune plugin (pulumi-resource-intune on PATH, or installed
// with pulumi plugin install). It adopts the tenant's TeamViewer connector (never creates one) and creates a
// partner of its own.
//
//	go run . [-connected=false] [-stack dev] up|preview|refresh|destroy
//
// PULUMI_CLI_ROOT names the folder holding bin/pulumi (default: pulumi on PATH); the tenant and credential come
// from the AZURE_* environment or stack config intune:*, as for every program of this package.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/pulumi-intune-remote-assistance/pulumi-intune-remote-assistance/sdk/go/intune"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// program declares the connector and a partner of the stack's own; connected is what both should be.
func program(connected bool) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		connector, err := intune.NewRemoteAssistancePartner(ctx, "teamviewer", &intune.RemoteAssistancePartnerArgs{
			DisplayName: pulumi.String("TeamViewer Connector"),
			Adopt:       pulumi.Bool(true),
			Connected:   pulumi.Bool(connected),
		}, pulumi.Protect(false))
		if err != nil {
			return err
		}
		support, err := intune.NewRemoteAssistancePartner(ctx, "support", &intune.RemoteAssistancePartnerArgs{
			DisplayName: pulumi.String("Contoso Support"),
			Connected:   pulumi.Bool(connected),
		})
		if err != nil {
			return err
		}
		ctx.Export("connectorId", connector.PartnerId)
		ctx.Export("supportId", support.PartnerId)
		ctx.Export("supportStatus", support.OnboardingStatus)
		return nil
	}
}

func main() {
	connected := flag.Bool("connected", true, "whether the partners are connected")
	stackName := flag.String("stack", "dev", "the stack")
	flag.Parse()
	if flag.NArg() != 1 {
		fail(fmt.Errorf("usage: go run . [-connected=false] [-stack dev] up|preview|refresh|destroy"))
	}
	ctx := context.Background()
	opts := []auto.LocalWorkspaceOption{}
	if root := os.Getenv("PULUMI_CLI_ROOT"); root != "" {
		cmd, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: root, SkipVersionCheck: true})
		if err != nil {
			fail(err)
		}
		opts = append(opts, auto.Pulumi(cmd))
	}
	stack, err := auto.UpsertStackInlineSource(ctx, *stackName, "intune-go", program(*connected), opts...)
	if err != nil {
		fail(err)
	}
	switch flag.Arg(0) {
	case "up":
		result, err := stack.Up(ctx, optup.ProgressStreams(os.Stdout))
		if err != nil {
			fail(err)
		}
		for name, output := range result.Outputs {
			fmt.Printf("output %s=%v\n", name, output.Value)
		}
	case "preview":
		_, err = stack.Preview(ctx, optpreview.ProgressStreams(os.Stdout))
	case "refresh":
		_, err = stack.Refresh(ctx, optrefresh.ProgressStreams(os.Stdout))
	case "destroy":
		_, err = stack.Destroy(ctx, optdestroy.ProgressStreams(os.Stdout))
	default:
		err = fmt.Errorf("unknown command %q", flag.Arg(0))
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "intune-go: %v\n", err)
	os.Exit(1)
}
