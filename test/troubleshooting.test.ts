/**
 * Every row of the README's Troubleshooting table is the message a user actually sees: each is produced here,
 * through the dynamic-provider host against the emulator, and matched against the row's symptom.
 */
import { strict as assert } from "node:assert";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { INTUNE_ROW_NAME } from "../emulator";
import { RemoteAssistancePartner, type RemoteAssistancePartnerArgs } from "../provider";
import { FakeEngine, ProviderHost, Stack, programInputs, type Props } from "../testing/engine";
import { useEmulator } from "./support/emulator";
import { useHost } from "./support/host";
import { readmeMessageRows } from "./support/readme";
import { REPO_ROOT } from "./support/repo";

/** The symptoms of the README's Troubleshooting table, each as the patterns of its code spans. */
const symptoms = () => readmeMessageRows("## Troubleshooting");

describe("the README's Troubleshooting table, each row produced", function () {
  this.timeout(60_000);
  const emu = useEmulator({ profile: "realistic" });
  const engine = new FakeEngine();
  const host = useHost(() => emu().env(), {
    engine,
    config: { "intune:consistencyWindowSeconds": "1", "intune:retryDeadlineSeconds": "10" },
  });
  let tenantId: string;
  let stack: Stack;
  beforeEach(() => {
    tenantId = emu().newTenant();
    stack = new Stack(host());
    engine.logs.length = 0;
  });

  const inputs = async (args: Partial<RemoteAssistancePartnerArgs>): Promise<Props> =>
    (await programInputs("p", { tenantId, ...args })).inputs;
  /** The message of what `fn` throws. */
  const failure = async (fn: () => Promise<unknown>): Promise<string> => {
    try {
      await fn();
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error("it did not fail");
  };
  /** The engine log line `pattern` once it has arrived. */
  const logLine = async (pattern: RegExp): Promise<string> => {
    for (let i = 0; i < 100; i++) {
      const line = engine.logs.find((l) => pattern.test(l));
      if (line) return line;
      await new Promise((r) => setTimeout(r, 20));
    }
    return engine.logs.join("\n");
  };
  /** A host of its own, on the emulator's environment changed by `env`, with the same config. */
  const withHost = async (
    env: Record<string, string | undefined>,
    fn: (other: Stack) => Promise<unknown>,
  ) => {
    const merged = Object.fromEntries(
      Object.entries({ ...emu().env(), ...env }).filter(([, v]) => v !== undefined),
    ) as Record<string, string>;
    const other = await ProviderHost.start({ env: merged });
    try {
      await other.configure({ "intune:consistencyWindowSeconds": "1" });
      return await failure(() => fn(new Stack(other)));
    } finally {
      await other.stop();
    }
  };
  const behaviour = async (
    switchOn: "refuseCreateDelete" | "appOnlyOnboardingForbidden" | "ignorePatch",
    fn: () => Promise<string>,
  ) => {
    emu().behaviour[switchOn] = true;
    try {
      return await fn();
    } finally {
      emu().behaviour[switchOn] = false;
    }
  };

  /** How to produce each row's message, by a phrase of its symptom. */
  const scenarios: Record<string, () => Promise<string>> = {
    "403 Forbidden": async () => {
      emu().faults.add({ kind: "status", status: 403, body: "intune" }, { tenantId });
      return failure(async () => stack.up({ p: await inputs({ displayName: "Forbidden" }) }));
    },
    "This identity is read-only": async () => {
      const reader = { clientId: randomUUID(), clientSecret: "reader-secret" };
      emu().registerApp({
        ...reader,
        tenants: [tenantId],
        permissions: ["DeviceManagementServiceConfig.Read.All"],
      });
      return withHost(
        { AZURE_CLIENT_ID: reader.clientId, AZURE_CLIENT_SECRET: reader.clientSecret },
        async (other) => other.up({ p: await inputs({ adopt: true, displayName: INTUNE_ROW_NAME }) }),
      );
    },
    "already exists in tenant T … To manage it": async () => {
      emu().tenant(tenantId).seed({ displayName: "Taken" });
      return failure(async () => stack.up({ p: await inputs({ displayName: "taken" }) }));
    },
    "adopt: true found no": async () =>
      failure(async () => stack.up({ p: await inputs({ adopt: true, displayName: "Nobody" }) })),
    "No remote assistance partner P": async () =>
      failure(async () => stack.up({ p: await inputs({ partnerId: "no-such-partner" }) })),
    "No tenant": () =>
      withHost({ AZURE_TENANT_ID: undefined, INTUNE_AUTH: "clientSecret" }, async (other) =>
        other.up({ p: (await programInputs("p", { displayName: "Nowhere" })).inputs }),
      ),
    "Could not get a Microsoft Graph token": () =>
      withHost({ AZURE_CLIENT_SECRET: "wrong-secret" }, async (other) =>
        other.up({ p: await inputs({ displayName: "Wrong secret" }) }),
      ),
    "Entra does not know tenant T": async () =>
      failure(async () =>
        stack.up({ p: await inputs({ displayName: "Nowhere", tenantId: "nosuch.onmicrosoft.com" }) }),
      ),
    "cannot be imported with the import option": async () =>
      failure(async () => new RemoteAssistancePartner("X", { displayName: "X" }, { import: "P" })),
    endpoints_resolution_error: () =>
      withHost({ NODE_EXTRA_CA_CERTS: undefined }, async (other) =>
        other.up({ p: await inputs({ displayName: "Untrusted" }) }),
      ),
    "DefaultAzureCredential found no credential": () =>
      withHost(
        { AZURE_CLIENT_ID: undefined, AZURE_CLIENT_SECRET: undefined, PATH: "/nonexistent" },
        async (other) => other.up({ p: await inputs({ displayName: "No credential" }) }),
      ),
    "Invalid provider settings": () =>
      withHost({ INTUNE_GRAPH_ENDPOINT: "http://graph.example.test" }, async (other) =>
        other.up({ p: await inputs({ displayName: "Plain http" }) }),
      ),
    "retry deadline": async () => {
      emu().faults.add({ kind: "status", status: 429, retryAfter: "120" }, { tenantId });
      return failure(async () => stack.up({ p: await inputs({ displayName: "Throttled" }) }));
    },
    "500 InternalServerError": async () => {
      await stack.up({ p: await inputs({ adopt: true, displayName: INTUNE_ROW_NAME }) });
      emu().faults.add(
        { kind: "status", status: 500, body: "intune" },
        { tenantId, path: "/disconnect" },
        10,
      );
      return failure(() => stack.destroy());
    },
    "Graph refused to create": () =>
      behaviour("refuseCreateDelete", () =>
        failure(async () => stack.up({ p: await inputs({ displayName: "Contoso Support" }) })),
      ),
    "refused to delete it": () =>
      behaviour("refuseCreateDelete", async () => {
        await stack.up({
          p: await inputs({ adopt: true, displayName: INTUNE_ROW_NAME, deleteOnDestroy: true }),
        });
        return failure(() => stack.destroy());
      }),
    "refused to begin onboarding": () =>
      behaviour("appOnlyOnboardingForbidden", () =>
        failure(async () => stack.up({ p: await inputs({ adopt: true, displayName: INTUNE_ROW_NAME }) })),
      ),
    "is not renamed to it": async () => {
      emu().tenant(tenantId).seed({ displayName: "Taken" });
      await stack.up({ p: await inputs({ displayName: "Mine" }) });
      return failure(async () => stack.up({ p: await inputs({ displayName: "Taken" }) }));
    },
    "asking Entra": async () => {
      await stack.up({ p: await inputs({ displayName: "Where" }) });
      return failure(async () =>
        stack.up({ p: await inputs({ displayName: "Where", tenantId: "nobody-knows.example" }) }),
      );
    },
    "cannot be loaded from DIR": async () => {
      const bare = mkdtempSync(join(tmpdir(), "intune-uninstalled-"));
      try {
        mkdirSync(join(bare, "node_modules"));
        for (const name of readdirSync(join(REPO_ROOT, "node_modules"))) {
          if (name !== "pulumi-intune-remote-assistance" && !name.startsWith("."))
            symlinkSync(join(REPO_ROOT, "node_modules", name), join(bare, "node_modules", name));
        }
        const other = await ProviderHost.start({ cwd: bare, env: emu().env() });
        try {
          return await failure(async () =>
            new Stack(other).up({ p: await inputs({ displayName: "Uninstalled" }) }),
          );
        } finally {
          await other.stop();
        }
      } finally {
        rmSync(bare, { recursive: true, force: true });
      }
    },
    "did not keep onboardingUrl": () =>
      behaviour("ignorePatch", async () => {
        await stack.up({
          p: await inputs({
            adopt: true,
            displayName: INTUNE_ROW_NAME,
            onboardingUrl: "https://tv.example/a",
          }),
        });
        return logLine(/did not keep onboardingUrl/);
      }),
    "met HTTP 429": async () => {
      emu().faults.add({ kind: "status", status: 429, retryAfter: "0.2" }, { tenantId, method: "GET" });
      await stack.up({ p: await inputs({ adopt: true, displayName: INTUNE_ROW_NAME }) });
      return logLine(/met HTTP 429/);
    },
    "below the documented limit": async () => {
      emu().faults.add({ kind: "status", status: 429, retryAfter: "0.2" }, { tenantId, method: "POST" });
      await stack.up({ p: await inputs({ adopt: true, displayName: INTUNE_ROW_NAME }) });
      return logLine(/below the documented limit/);
    },
  };

  it("has a scenario for every row, and every scenario a row", () => {
    const rows = symptoms();
    assert.ok(rows.length >= 20, `${rows.length} rows`);
    for (const row of rows) {
      const keys = Object.keys(scenarios).filter((k) => row.text.includes(k));
      assert.equal(keys.length, 1, `row ${row.text}: scenarios ${keys.join(", ")}`);
    }
    for (const key of Object.keys(scenarios))
      assert.ok(
        rows.some((r) => r.text.includes(key)),
        `no row for ${key}`,
      );
  });

  for (const row of symptoms()) {
    it(`produces: ${row.text}`, async () => {
      const key = Object.keys(scenarios).find((k) => row.text.includes(k))!;
      const message = await scenarios[key]();
      for (const pattern of row.patterns) assert.match(message, pattern);
    });
  }
});
