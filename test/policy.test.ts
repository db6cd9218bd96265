import { strict as assert } from "node:assert";
import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { REMOTE_ASSISTANCE_PARTNER_TYPE, REMOTE_ASSISTANCE_SETTINGS_TYPE } from "../provider";
import {
  allowedOnboardingHosts,
  httpsOnboardingUrl,
  intunePolicies,
  matches,
  mustTearDown,
  nameDeclared,
  protectAdoptedProduction,
  remoteHelpChoice,
  teardownByPolicy,
} from "../policy/rules";
import { PARTNER_TYPES, SETTINGS_TYPES } from "../policy/resources";
import { PARTNER_TOKEN, SETTINGS_TOKEN } from "../provider/plugin/schema";
import { useEmulator } from "./support/emulator";
import { Stack, programInputs } from "../testing/engine";
import { useHost } from "./support/host";

class NotApplicable extends Error {}

/** The arguments the policy runtime passes, built by hand. */
function args(
  props: Record<string, unknown>,
  config: object = {},
  over: { type?: string; protect?: boolean } = {},
): ResourceValidationArgs {
  const type = over.type ?? REMOTE_ASSISTANCE_PARTNER_TYPE;
  return {
    type,
    props,
    urn: `urn:pulumi:prod::intune::${type}::partner`,
    name: "partner",
    opts: {
      protect: over.protect ?? false,
      ignoreChanges: [],
      aliases: [],
      customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
      additionalSecretOutputs: [],
    },
    stackTags: new Map(),
    isType: (cls: { __pulumiType?: string }) => cls.__pulumiType === type,
    asType: () => undefined,
    getConfig: <T>() => config as T,
    notApplicable: (reason?: string) => {
      throw new NotApplicable(reason);
    },
  } as unknown as ResourceValidationArgs;
}

async function violations(policy: ResourceValidationPolicy, a: ResourceValidationArgs): Promise<string[]> {
  const found: string[] = [];
  const validate = policy.validateResource as (
    a: ResourceValidationArgs,
    report: (m: string) => void,
  ) => Promise<void> | void;
  try {
    await validate(a, (message) => found.push(message));
  } catch (e) {
    if (!(e instanceof NotApplicable)) throw e;
  }
  return found;
}

async function remediate(
  policy: ResourceValidationPolicy,
  a: ResourceValidationArgs,
): Promise<Record<string, unknown> | undefined> {
  try {
    return (await policy.remediateResource!(a)) ?? undefined;
  } catch (e) {
    if (e instanceof NotApplicable) return undefined;
    throw e;
  }
}

describe("policy rules", () => {
  it("match names and hosts with * wildcards, case-insensitively", () => {
    assert.ok(matches("login.teamviewer.com", "*.teamviewer.com"));
    assert.ok(matches("TeamViewer Connector", "teamviewer*"));
    assert.ok(!matches("teamviewer.com.evil.example", "*.teamviewer.com"));
    assert.ok(!matches("xteamviewer.com", "*.teamviewer.com"));
  });

  describe("intune-onboarding-host-allowed (mandatory)", () => {
    const policy = allowedOnboardingHosts();
    it("is mandatory", () => assert.equal(policy.enforcementLevel, "mandatory"));
    it("accepts TeamViewer's hosts by default", async () => {
      assert.deepEqual(
        await violations(
          policy,
          args({ displayName: "TV", onboardingUrl: "https://login.teamviewer.com/nav" }),
        ),
        [],
      );
    });
    it("refuses another host, naming the allowed ones", async () => {
      const [v] = await violations(
        policy,
        args({ displayName: "TV", onboardingUrl: "https://login.evil.example/x" }),
      );
      assert.match(
        v,
        /host 'login\.evil\.example' is not one of the allowed partner hosts: login\.teamviewer\.com, \*\.teamviewer\.com/,
      );
    });
    it("uses the configured hosts", async () => {
      const a = args(
        { displayName: "P", onboardingUrl: "https://portal.partner.example/o" },
        { allowedOnboardingHosts: ["portal.partner.example"] },
      );
      assert.deepEqual(await violations(policy, a), []);
    });
    it("ignores a partner without onboardingUrl and other resource types", async () => {
      assert.deepEqual(await violations(policy, args({ displayName: "TV" })), []);
      assert.deepEqual(
        await violations(
          policy,
          args({ onboardingUrl: "https://x.example" }, {}, { type: "aws:s3/bucket:Bucket" }),
        ),
        [],
      );
    });
  });

  describe("intune-onboarding-url-https (mandatory)", () => {
    const policy = httpsOnboardingUrl();
    it("refuses an http onboarding URL", async () => {
      assert.match(
        (
          await violations(policy, args({ displayName: "TV", onboardingUrl: "http://login.teamviewer.com" }))
        )[0],
        /must use https/,
      );
    });
    it("accepts https", async () => {
      assert.deepEqual(
        await violations(policy, args({ displayName: "TV", onboardingUrl: "https://login.teamviewer.com" })),
        [],
      );
    });
  });

  describe("intune-partner-teardown (remediate)", () => {
    const policy = teardownByPolicy();
    const props = { displayName: "Rogue Connector", connected: true, tenantId: "t" };
    it("is a remediation", () => assert.equal(policy.enforcementLevel, "remediate"));
    it("disconnects a partner missing from the allowlist, keeping its other inputs", async () => {
      assert.deepEqual(await remediate(policy, args(props, { allowedPartners: ["TeamViewer*"] })), {
        ...props,
        connected: false,
      });
    });
    it("leaves an allowed partner alone", async () => {
      assert.equal(
        await remediate(
          policy,
          args({ ...props, displayName: "TeamViewer Connector" }, { allowedPartners: ["TeamViewer*"] }),
        ),
        undefined,
      );
    });
    it("disconnects every partner when the config declares a teardown", async () => {
      assert.equal(
        (
          await remediate(
            policy,
            args(
              { ...props, displayName: "TeamViewer Connector" },
              { allowedPartners: ["*"], teardown: true },
            ),
          )
        )?.connected,
        false,
      );
    });
    it("disconnects a partner adopted by id without a name only on a teardown of all", async () => {
      const unnamed = { partnerId: "p1", connected: true };
      assert.equal(await remediate(policy, args(unnamed, { allowedPartners: ["TeamViewer*"] })), undefined);
      assert.equal((await remediate(policy, args(unnamed, { teardown: true })))?.connected, false);
    });
    it("allows everything without an allowlist", async () => {
      assert.equal(await remediate(policy, args(props, {})), undefined);
    });
    it("decides as a pure function", () => {
      assert.equal(mustTearDown("A", {}), false);
      assert.equal(mustTearDown("A", { allowedPartners: [] }), true);
      assert.equal(mustTearDown("A", { teardown: true }), true);
    });
  });

  describe("intune-partner-name-declared (advisory)", () => {
    const policy = nameDeclared();
    it("is advisory", () => assert.equal(policy.enforcementLevel, "advisory"));
    it("warns about a partner adopted by id without a name, which an allowlist cannot match", async () => {
      assert.match(
        (await violations(policy, args({ partnerId: "p1" })))[0],
        /Partner p1 declares no displayName: the intune-partner-teardown allowlist matches declared names/,
      );
      assert.deepEqual(
        await violations(policy, args({ partnerId: "p1", displayName: "TeamViewer Connector" })),
        [],
      );
    });
  });

  describe("intune-adopted-production-protected (advisory)", () => {
    const policy = protectAdoptedProduction();
    const adopted = { displayName: "TeamViewer Connector", partnerId: "p1", deleteOnDestroy: true };
    it("is advisory", () => assert.equal(policy.enforcementLevel, "advisory"));
    it("warns about an unprotected adopted connector deleted on destroy in production", async () => {
      assert.match(
        (await violations(policy, args(adopted, { production: true })))[0],
        /a destroy would delete it/,
      );
    });
    it("accepts it protected, or kept on destroy, or outside production", async () => {
      assert.deepEqual(await violations(policy, args(adopted, { production: true }, { protect: true })), []);
      assert.deepEqual(
        await violations(policy, args({ ...adopted, deleteOnDestroy: false }, { production: true })),
        [],
      );
      assert.deepEqual(await violations(policy, args(adopted, { production: false })), []);
    });
    it("counts a partner adopted by name as adopted", async () => {
      const byName = { displayName: "TeamViewer Connector", adopt: true, deleteOnDestroy: true };
      assert.equal((await violations(policy, args(byName, { production: true }))).length, 1);
    });
  });

  describe("intune-remote-help-choice (remediate)", () => {
    const policy = remoteHelpChoice();
    const settingsArgs = (props: Record<string, unknown>, config: object) =>
      args(props, config, { type: REMOTE_ASSISTANCE_SETTINGS_TYPE });
    it("is a remediation", () => assert.equal(policy.enforcementLevel, "remediate"));
    it("makes Remote Help's settings declare the organisation's choice", async () => {
      assert.deepEqual(
        await remediate(policy, settingsArgs({ remoteAssistanceState: "enabled" }, { blockChat: true })),
        { remoteAssistanceState: "enabled", blockChat: true },
      );
      assert.deepEqual(
        await remediate(
          policy,
          settingsArgs(
            { blockChat: false, allowSessionsToUnenrolledDevices: true },
            { blockChat: true, allowSessionsToUnenrolledDevices: false },
          ),
        ),
        { blockChat: true, allowSessionsToUnenrolledDevices: false },
      );
    });
    it("leaves settings that match, or a config without a choice, alone", async () => {
      assert.equal(
        await remediate(policy, settingsArgs({ blockChat: true }, { blockChat: true })),
        undefined,
      );
      assert.equal(await remediate(policy, settingsArgs({ blockChat: false }, {})), undefined);
    });
    it("ignores partners", async () => {
      assert.equal(await remediate(policy, args({ displayName: "X" }, { blockChat: true })), undefined);
    });
  });

  it("the pack holds every rule, each applied to the dynamic provider's and the plugin's type token alike, and to no other", () => {
    const names = intunePolicies().map((p) => p.name);
    assert.deepEqual(names, [
      "intune-onboarding-host-allowed",
      "intune-onboarding-url-https",
      "intune-partner-teardown",
      "intune-partner-name-declared",
      "intune-adopted-production-protected",
      "intune-remote-help-choice",
    ]);
    assert.deepEqual(PARTNER_TYPES, [REMOTE_ASSISTANCE_PARTNER_TYPE, PARTNER_TOKEN]);
    assert.deepEqual(SETTINGS_TYPES, [REMOTE_ASSISTANCE_SETTINGS_TYPE, SETTINGS_TOKEN]);
    const args = (type: string, props: Record<string, unknown>) =>
      ({
        type,
        props,
        urn: "",
        name: "r",
        opts: {},
        getConfig: () => ({ teardown: true, blockChat: true }),
      }) as never;
    const violations = (type: string) => {
      const found: string[] = [];
      (httpsOnboardingUrl().validateResource as (a: never, r: (m: string) => void) => void)(
        args(type, { displayName: "TV", onboardingUrl: "http://login.teamviewer.com" }),
        (m) => found.push(m),
      );
      return found.length;
    };
    const torn = (type: string) =>
      (teardownByPolicy().remediateResource as (a: never) => unknown)(args(type, { displayName: "TV" }));
    const chosen = (type: string) =>
      (remoteHelpChoice().remediateResource as (a: never) => unknown)(args(type, { blockChat: false }));
    for (const type of PARTNER_TYPES) {
      assert.equal(violations(type), 1, type);
      assert.deepEqual(torn(type), { displayName: "TV", connected: false }, type);
    }
    for (const type of SETTINGS_TYPES) assert.deepEqual(chosen(type), { blockChat: true }, type);
    for (const other of ["random:index:RandomPet", "pulumi-nodejs:dynamic:Resource"]) {
      assert.equal(violations(other), 0);
      assert.equal(torn(other), undefined);
      assert.equal(chosen(other), undefined);
    }
  });
});

describe("teardown by policy, end to end through the dynamic-provider host", function () {
  this.timeout(60_000);
  const emu = useEmulator({ onboardingDelayMs: null });
  const host = useHost(() => emu().env());

  it("makes the next pulumi up disconnect a partner the policy config does not allow: exactly one disconnect", async () => {
    const tenantId = emu().newTenant();
    const stack = new Stack(host());
    const declared = (await programInputs("rogue", { displayName: "Rogue Connector", tenantId })).inputs;
    await stack.up({ rogue: declared });
    const { id } = stack.state.get("rogue")!;
    assert.equal(emu().tenant(tenantId).find(id)?.status, "onboarding");
    // The engine runs remediations on the program's inputs before Check; here with the real rule.
    const remediated = await remediate(
      teardownByPolicy(),
      args(declared, { allowedPartners: ["TeamViewer*"] }),
    );
    assert.ok(remediated, "the rule remediated the partner");
    emu().clearLog();
    assert.equal(await stack.upOne("rogue", remediated), "update");
    assert.deepEqual(emu().calls({ tenantId }), [`POST /remoteAssistancePartners/${id}/disconnect`]);
    assert.equal(emu().tenant(tenantId).find(id)?.status, "notOnboarded");
    emu().clearLog();
    assert.equal(await stack.upOne("rogue", remediated), "same", "the next run has nothing to do");
    assert.deepEqual(emu().calls({ tenantId }), []);
  });
});
