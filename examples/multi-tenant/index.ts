// The connector of many customer tenants from one stack. One multi-tenant app registration, consented in
// each tenant, authenticates everywhere (intune:clientId / intune:clientSecret, or workload identity); each
// resource names its tenant. Each tenant's own TeamViewer connector is adopted, never created: by name (Intune's
// row is most likely "TeamViewer Connector"), or by partnerId. Stack config, e.g. Pulumi.msp.yaml:
//
//   config:
//     intune-multi-tenant:tenants:
//       - tenantId: contoso.onmicrosoft.com
//       - tenantId: 0e8c…-…
//         partnerId: 4c2b…            # adopt this partner by its id
//         connected: false            # and keep it disconnected
//       - tenantId: fabrikam.onmicrosoft.com
//         displayName: TeamViewer     # where the tenant's connector has another name
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
    ...(t.partnerId
      ? { partnerId: t.partnerId, displayName: t.displayName }
      : { adopt: true, displayName: t.displayName ?? "TeamViewer Connector" }),
    connected: t.connected ?? true,
  });
  return {
    tenantId: t.tenantId,
    partnerId: connector.partnerId,
    onboardingStatus: connector.onboardingStatus,
  };
});
