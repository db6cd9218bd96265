// The connector of many customer tenants from one stack. One multi-tenant app registration, consented in
// each tenant, authenticates everywhere (intune:clientId / intune:clientSecret, or workload identity); each
// resource names its tenant. Stack config, e.g. Pulumi.msp.yaml:
//
//   config:
//     intune-multi-tenant:tenants:
//       - tenantId: contoso.onmicrosoft.com
//         partnerId: 4c2b…            # adopt the connector the tenant already has
//       - tenantId: 0e8c…-…           # no partnerId: create one
//         connected: false            # and keep it disconnected
import * as pulumi from "@pulumi/pulumi";
import { RemoteAssistancePartner } from "pulumi-intune-remote-assistance";

interface TenantConnector {
  tenantId: string;
  partnerId?: string;
  displayName?: string;
  connected?: boolean;
}

const config = new pulumi.Config();
const tenants = config.requireObject<TenantConnector[]>("tenants");

export const connectors = tenants.map((t) => {
  const connector = new RemoteAssistancePartner(`teamviewer-${t.tenantId}`, {
    tenantId: t.tenantId,
    partnerId: t.partnerId,
    displayName: t.displayName ?? "TeamViewer Connector",
    onboardingUrl: t.partnerId ? undefined : "https://login.teamviewer.com/nav/intune",
    connected: t.connected ?? true,
  });
  return {
    tenantId: t.tenantId,
    partnerId: connector.partnerId,
    onboardingStatus: connector.onboardingStatus,
  };
});
