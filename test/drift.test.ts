/**
 * The drift workflow GitOps runs on a schedule: `pulumi preview --refresh --expect-no-changes` detects a
 * portal-side change, `pulumi up --refresh` repairs it, through the real dynamic-provider host.
 */
import { strict as assert } from "node:assert";
import { useEmulator } from "./support/emulator";
import { Stack, programInputs, type Props } from "../testing/engine";
import { useHost } from "./support/host";

describe("drift workflow", function () {
  this.timeout(60_000);
  const emu = useEmulator({ onboardingDelayMs: null });
  const host = useHost(() => emu().env());

  for (const [name, desiredConnected, portalChange] of [
    ["a connector reconnected in the portal", false, "onboarded"],
    ["a connector disconnected in the portal", true, "notOnboarded"],
  ] as const) {
    it(`detects ${name} with preview --refresh --expect-no-changes and repairs it with up --refresh`, async () => {
      const tenantId = emu().newTenant();
      const stack = new Stack(host());
      const program: Record<string, Props> = {
        tv: (await programInputs("tv", { displayName: "Drifting", tenantId, connected: desiredConnected }))
          .inputs,
      };
      await stack.up(program);
      const { id } = stack.state.get("tv")!;

      // No drift: the scheduled check (pulumi preview --refresh --expect-no-changes) passes.
      emu().clearLog();
      assert.deepEqual(await stack.preview(program, {}, { refresh: true }), []);
      assert.deepEqual(
        emu().calls({ tenantId }),
        [`GET /remoteAssistancePartners/${id}`],
        "one read, no write",
      );

      emu().tenant(tenantId).setStatus(id, portalChange);
      assert.deepEqual(await stack.preview(program), [], "without --refresh the stale state hides the drift");
      assert.deepEqual(
        await stack.preview(program, {}, { refresh: true }),
        ["tv"],
        "--refresh shows it: --expect-no-changes fails the job",
      );

      // pulumi up --refresh --yes: the preview's refresh, the update's, then the one call that repairs it.
      emu().clearLog();
      await stack.up(program, {}, { refresh: true });
      const repair = desiredConnected ? "beginOnboarding" : "disconnect";
      assert.deepEqual(emu().calls({ tenantId }), [
        `GET /remoteAssistancePartners/${id}`,
        `GET /remoteAssistancePartners/${id}`,
        `POST /remoteAssistancePartners/${id}/${repair}`,
      ]);
      assert.deepEqual(
        await stack.preview(program, {}, { refresh: true }),
        [],
        "repaired: the next scheduled check passes",
      );
    });
  }
});
