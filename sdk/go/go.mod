module github.com/pulumi-intune-remote-assistance/pulumi-intune-remote-assistance/sdk/go

go 1.25

require github.com/pulumi/pulumi/sdk/v3 v3.269.0
