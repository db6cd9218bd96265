// The policy pack: `pulumi up --policy-pack ./policy --policy-pack-config policy/config.json`.
// Constructing a PolicyPack starts its gRPC server, so the rules live in rules.ts, tested on their own.
import { PolicyPack } from "@pulumi/policy";
import { intunePolicies } from "./rules";

new PolicyPack("intune-remote-assistance", {
  description:
    "Allowed partner hosts, https onboarding, teardown by policy, protected production connectors.",
  policies: intunePolicies(),
});
