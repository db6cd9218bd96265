/**
 * GitOps artefacts: the operator Stack manifest and the GitHub Actions workflow parse, carry the fields their
 * job needs and use the commands the README documents; the multi-tenant and fan-out examples do what they say.
 */
import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { fanOut, type Tenant } from "../examples/automation/fanout";
import { REMOTE_ASSISTANCE_PARTNER_TYPE } from "../provider";
import { intuneSchema } from "../provider/plugin/schema";
import type { Props } from "../testing/engine";
import { LOCKED_SDK } from "./support/installed";
import { REPO_ROOT } from "./support/repo";
import { runProgram } from "./support/program";

/** The user documentation: the README and the pages it links. */
const readme = [
  join(REPO_ROOT, "README.md"),
  ...readdirSync(join(REPO_ROOT, "docs")).map((f) => join(REPO_ROOT, "docs", f)),
]
  .map((f) => readFileSync(f, "utf8"))
  .join("\n");

/**
 * The spec fields of the operator's `pulumi.com/v1` Stack, as its CRD (pulumi-kubernetes-operator v2.9.0,
 * `deploy/crds/pulumi.com_stacks.yaml`) lists them.
 */
const STACK_SPEC_FIELDS = new Set(
  "accessTokenSecret backend branch commit config configRef continueResyncOnCommitMatch destroyOnFinalize envRefs envSecrets environment envs expectNoRefreshChanges fluxSource gitAuth gitAuthSecret prerequisites preview programRef projectRepo refresh repoDir resyncFrequencySeconds retryMaxBackoffDurationSeconds retryOnUpdateConflict runProgram secrets secretsProvider secretsRef serviceAccountName shallow stack targetDependents targets updateTemplate useLocalStackOnly workspaceReclaimPolicy workspaceTemplate".split(
    " ",
  ),
);

/** The inputs of pulumi/actions v7 (its `action.yml`). */
const PULUMI_ACTION_INPUTS = new Set(
  "command stack-name pulumi-version pulumi-version-file work-dir comment-on-pr comment-on-pr-number comment-on-summary github-token cloud-url secrets-provider parallel message config-map expect-no-changes diff replace exclude exclude-dependents target target-dependents policyPacks policyPackConfigs refresh upsert remove edit-pr-comment color exclude-protected plan suppress-outputs suppress-progress always-include-summary continue-on-error log-verbosity log-flow debug".split(
    " ",
  ),
);

describe("Pulumi Kubernetes Operator Stack", () => {
  const docs = parseAllDocuments(readFileSync(join(REPO_ROOT, "deploy/operator/stack.yaml"), "utf8")).map(
    (d) => d.toJS(),
  );
  const account = docs.find((d) => d.kind === "ServiceAccount");
  const stack = docs.find((d) => d.kind === "Stack");

  it("is a pulumi.com/v1 Stack with a service account, and parses", () => {
    assert.equal(stack.apiVersion, "pulumi.com/v1");
    assert.ok(account);
    assert.match(stack.spec.stack, /^[^/]+\/[^/]+\/[^/]+$/);
    assert.ok(stack.spec.projectRepo && stack.spec.branch);
  });

  it("refreshes, resyncs without new commits, and destroys on finalize", () => {
    assert.equal(stack.spec.refresh, true);
    assert.ok(stack.spec.resyncFrequencySeconds >= 60, "the operator's minimum is 60 s");
    assert.equal(stack.spec.continueResyncOnCommitMatch, true);
    assert.equal(stack.spec.destroyOnFinalize, true);
  });

  it("uses only fields of the operator's Stack CRD", () => {
    assert.deepEqual(
      Object.keys(stack.spec).filter((k) => !STACK_SPEC_FIELDS.has(k)),
      [],
    );
  });

  it("binds the workspace's service account to system:auth-delegator, as operator v2 requires", () => {
    const binding = docs.find((d) => d.kind === "ClusterRoleBinding");
    assert.deepEqual(binding.roleRef, {
      apiGroup: "rbac.authorization.k8s.io",
      kind: "ClusterRole",
      name: "system:auth-delegator",
    });
    assert.deepEqual(binding.subjects, [
      { kind: "ServiceAccount", name: account.metadata.name, namespace: account.metadata.namespace },
    ]);
  });

  it("runs under Azure workload identity", () => {
    assert.equal(stack.spec.serviceAccountName, account.metadata.name);
    assert.ok(account.metadata.annotations["azure.workload.identity/client-id"]);
    assert.equal(
      stack.spec.workspaceTemplate.spec.podTemplate.metadata.labels["azure.workload.identity/use"],
      "true",
    );
    assert.equal(stack.spec.envRefs.INTUNE_AUTH.literal.value, "workloadIdentity");
  });
});

type Step = { name?: string; uses?: string; run?: string; if?: string; with?: Record<string, unknown> };
type Job = {
  if: string;
  environment?: string;
  permissions: Record<string, string>;
  env: Record<string, string>;
  steps: Step[];
};

/** What triggers a run: the event, the ref it runs on, and whether it comes from a fork. */
interface Trigger {
  event: string;
  ref: string;
  why: string;
}

/** Every way a run of the workflow can start. */
const TRIGGERS: Trigger[] = [
  { event: "pull_request", ref: "refs/pull/7/merge", why: "a pull request from a branch or a fork" },
  { event: "schedule", ref: "refs/heads/main", why: "the schedule (on the default branch)" },
  { event: "push", ref: "refs/heads/main", why: "a push to main" },
  { event: "workflow_dispatch", ref: "refs/heads/main", why: "a person running it on main" },
  { event: "workflow_dispatch", ref: "refs/heads/feature", why: "a person running it on another branch" },
];

/** Whether a job's `if:` lets it run for `trigger` (the expressions the workflow uses: ==, &&, ||, parentheses). */
function runsFor(job: Job, trigger: Trigger): boolean {
  const js = job.if
    .replace(/github\.event_name/g, JSON.stringify(trigger.event))
    .replace(/github\.ref/g, JSON.stringify(trigger.ref))
    .replace(/'([^']*)'/g, (_, v: string) => JSON.stringify(v))
    .replace(/==/g, "===");
  assert.match(js, /^[\s"\w/.=&|()!-]*$/, `an if: this test can read: ${job.if}`);
  return new Function(`return (${js});`)() as boolean;
}

/** The fields of the operator's `pulumi.com/v1` Program (its CRD, pulumi-kubernetes-operator v2.9.0). */
const PROGRAM_FIELDS = new Set(["configuration", "resources", "variables", "outputs", "packages"]);
const PROGRAM_RESOURCE_OPTIONS = new Set(
  "additionalSecretOutputs aliases customTimeouts deleteBeforeReplace dependsOn ignoreChanges import parent protect provider providers version".split(
    " ",
  ),
);

describe("Pulumi Kubernetes Operator Program (YAML, the intune plugin)", () => {
  const docs = parseAllDocuments(readFileSync(join(REPO_ROOT, "deploy/operator/program.yaml"), "utf8")).map(
    (d) => d.toJS(),
  );
  const program = docs.find((d) => d.kind === "Program");
  const stack = docs.find((d) => d.kind === "Stack");
  const schema = intuneSchema("0.0.0");

  it("uses only the Program CRD's fields, and only the plugin's resources and their inputs", () => {
    assert.equal(program.apiVersion, "pulumi.com/v1");
    assert.deepEqual(
      Object.keys(program.program).filter((k) => !PROGRAM_FIELDS.has(k)),
      [],
    );
    for (const c of Object.values(program.program.configuration ?? {}) as { type: string }[])
      assert.ok(["String", "Number", "List<Number>", "List<String>"].includes(c.type), c.type);
    for (const [name, r] of Object.entries(program.program.resources) as [string, Record<string, Props>][]) {
      const token = String(r.type).replace(/^intune:/, "intune:index:");
      const resource = (schema.resources as Record<string, { inputProperties: Props }>)[token];
      assert.ok(resource, `${name}: ${String(r.type)} is a resource of the plugin`);
      assert.deepEqual(
        Object.keys(r.properties).filter((k) => !(k in resource.inputProperties)),
        [],
        name,
      );
      assert.deepEqual(
        Object.keys(r.options ?? {}).filter((k) => !PROGRAM_RESOURCE_OPTIONS.has(k)),
        [],
        name,
      );
    }
  });

  it("is run by a Stack that refreshes, resyncs, destroys on finalize, and whose workspace image has the plugin", () => {
    assert.equal(stack.spec.programRef.name, program.metadata.name);
    assert.deepEqual(
      Object.keys(stack.spec).filter((k) => !STACK_SPEC_FIELDS.has(k)),
      [],
    );
    assert.equal(stack.spec.refresh, true);
    assert.equal(stack.spec.destroyOnFinalize, true);
    assert.equal(stack.spec.continueResyncOnCommitMatch, true);
    const dockerfile = readFileSync(join(REPO_ROOT, "deploy/operator/Dockerfile"), "utf8");
    assert.match(
      dockerfile,
      new RegExp(`^FROM pulumi/pulumi:${LOCKED_SDK.replace(/\./g, "\\.")}-nonroot$`, "m"),
    );
    assert.match(
      dockerfile,
      /^ADD pulumi-resource-intune\.tar\.gz \/usr\/local\/bin\/$/m,
      "the executable on PATH",
    );
    assert.ok(stack.spec.workspaceTemplate.spec.image.endsWith(`:${LOCKED_SDK}`));
  });
});

describe("GitHub Actions workflow", () => {
  const text = readFileSync(join(REPO_ROOT, "deploy/github-actions/intune-remote-assistance.yml"), "utf8");
  const header = text.slice(0, text.indexOf("\nname:"));
  const workflow = parse(text) as {
    on: { push: { branches: string[] }; schedule: { cron: string }[]; [event: string]: unknown };
    permissions: Record<string, string>;
    env: Record<string, string>;
    jobs: Record<string, Job>;
  };
  const jobs = Object.entries(workflow.jobs);
  const steps = jobs.flatMap(([, job]) => job.steps);
  const pulumiStep = (job: Job) => job.steps.find((s) => s.uses?.startsWith("pulumi/actions"))!;
  const asCommand = (s: Step) =>
    `pulumi ${s.with!.command}${s.with!.refresh ? " --refresh" : ""}${s.with!["expect-no-changes"] ? " --expect-no-changes" : ""}`;
  const jobFor = (trigger: Trigger) => jobs.filter(([, job]) => runsFor(job, trigger));

  it("is a valid workflow by the workflow schema (action-validator)", () => {
    const { validateWorkflow } = require("@action-validator/core") as typeof import("@action-validator/core");
    assert.deepEqual(validateWorkflow(text).errors, []);
  });

  it("uses the current major versions of its actions, and only inputs pulumi/actions has", () => {
    const versions = Object.fromEntries(
      steps.filter((s) => s.uses).map((s) => s.uses!.split("@") as [string, string]),
    );
    assert.deepEqual(versions, {
      "actions/checkout": "v7",
      "actions/setup-node": "v7",
      "actions/github-script": "v8",
      "pulumi/actions": "v7",
    });
    for (const step of steps.filter((s) => s.uses?.startsWith("pulumi/actions")))
      assert.deepEqual(
        Object.keys(step.with!).filter((k) => !PULUMI_ACTION_INPUTS.has(k)),
        [],
        step.name,
      );
  });

  it("installs the policy pack and runs every pulumi step with it and its committed config", () => {
    for (const [name, job] of jobs) {
      assert.ok(
        job.steps.some((s) => s.run?.startsWith("npm install --prefix policy")),
        name,
      );
      assert.equal(pulumiStep(job).with!.policyPacks, "./policy", name);
      assert.equal(pulumiStep(job).with!.policyPackConfigs, "./policy/config.json", name);
    }
    const config = JSON.parse(readFileSync(join(REPO_ROOT, "policy/config.json"), "utf8"));
    assert.deepEqual(
      config["intune-partner-teardown"],
      { teardown: false },
      "the committed config disconnects nothing",
    );
    const pack = JSON.parse(readFileSync(join(REPO_ROOT, "policy/package.json"), "utf8"));
    assert.deepEqual(Object.keys(pack.dependencies).sort(), [
      "@pulumi/policy",
      "@pulumi/pulumi",
      "typescript",
    ]);
  });

  it("runs one job per trigger: preview for pull requests, the drift check on schedule, apply for main", () => {
    assert.deepEqual(
      TRIGGERS.map((t) => [t.why, jobFor(t).map(([name]) => name)]),
      [
        ["a pull request from a branch or a fork", ["preview"]],
        ["the schedule (on the default branch)", ["drift"]],
        ["a push to main", ["apply"]],
        ["a person running it on main", ["apply"]],
        ["a person running it on another branch", []],
      ],
    );
    assert.ok("pull_request" in workflow.on && "workflow_dispatch" in workflow.on);
    assert.deepEqual(workflow.on.push.branches, ["main"]);
    assert.ok(workflow.on.schedule[0].cron);
  });

  it("gives no job that runs for a pull request or on a schedule the writer's client id or an environment", () => {
    for (const trigger of TRIGGERS.filter((t) => t.event === "pull_request" || t.event === "schedule"))
      for (const [name, job] of jobFor(trigger)) {
        assert.doesNotMatch(JSON.stringify(job), /WRITER/, `${name} (${trigger.why})`);
        assert.equal(job.env.AZURE_CLIENT_ID, "${{ vars.AZURE_READER_CLIENT_ID }}", name);
        assert.equal(job.environment, undefined, name);
      }
    assert.doesNotMatch(JSON.stringify(workflow.env), /CLIENT_ID/, "no client id for every job at once");
  });

  it("runs every up or destroy in the production environment, only for main, with the writer", () => {
    const writing = jobs.filter(([, job]) =>
      ["up", "destroy"].includes(String(pulumiStep(job).with!.command)),
    );
    assert.deepEqual(
      writing.map(([name]) => name),
      ["apply"],
    );
    for (const [name, job] of writing) {
      assert.equal(job.environment, "production", name);
      assert.equal(job.env.AZURE_CLIENT_ID, "${{ vars.AZURE_WRITER_CLIENT_ID }}", name);
      for (const trigger of TRIGGERS.filter((t) => runsFor(job, t)))
        assert.ok(
          trigger.ref === "refs/heads/main" && ["push", "workflow_dispatch"].includes(trigger.event),
          `${name} runs for ${trigger.why}`,
        );
    }
  });

  it("asks for an OIDC token in each job, not for the whole workflow, and writes it for WorkloadIdentityCredential", () => {
    assert.deepEqual(workflow.permissions, { contents: "read" });
    for (const [name, job] of jobs) {
      assert.equal(job.permissions["id-token"], "write", name);
      assert.ok(
        job.steps.some((s) => s.run === "npm ci"),
        name,
      );
      const token = job.steps.find((s) => s.uses?.startsWith("actions/github-script"))!;
      assert.match(
        String(token.with!.script),
        /getIDToken\("api:\/\/AzureADTokenExchange"\)[\s\S]*AZURE_FEDERATED_TOKEN_FILE/,
        name,
      );
    }
    assert.equal(workflow.env.INTUNE_AUTH, "workloadIdentity");
  });

  it("says in its header which apps, permissions, federated credentials, variables and environment to create", () => {
    for (const needed of [
      "DeviceManagementServiceConfig.Read.All",
      "DeviceManagementServiceConfig.ReadWrite.All",
      "repo:<owner>/<repo>:pull_request",
      "repo:<owner>/<repo>:ref:refs/heads/main",
      "repo:<owner>/<repo>:environment:production",
      "AZURE_READER_CLIENT_ID",
      "AZURE_WRITER_CLIENT_ID",
      "AZURE_TENANT_ID",
      "PULUMI_ACCESS_TOKEN",
      "required reviewers",
      "deployment branches",
    ])
      assert.ok(header.includes(needed), `the header names ${needed}`);
  });

  it("says how to repair drift when the check finds it, with the writer's job", () => {
    const [, drift] = jobs.find(([name]) => name === "drift")!;
    const explain = drift.steps.find((s) => s.if === "failure()");
    assert.match(String(explain?.run), /apply job[\s\S]*writer identity/);
  });

  it("previews pull requests, runs up --refresh on main, checks drift on schedule: the README's commands", () => {
    const expected: [string, string][] = [
      ["preview", "pulumi preview --refresh"],
      ["apply", "pulumi up --refresh"],
      ["drift", "pulumi preview --refresh --expect-no-changes"],
    ];
    for (const [name, command] of expected) {
      assert.equal(asCommand(pulumiStep(workflow.jobs[name])), command, name);
      assert.ok(readme.includes(command), `the README documents ${command}`);
    }
    assert.ok(readme.includes("--policy-pack ./policy --policy-pack-config policy/config.json"));
  });
});

describe("multi-tenant examples", () => {
  it("one stack manages the connector of every configured tenant, adopting where a partnerId is given", async () => {
    const { registered } = await runProgram(
      join(REPO_ROOT, "examples/multi-tenant/index.ts"),
      "intune-multi-tenant",
      {
        "intune-multi-tenant:tenants": JSON.stringify([
          { tenantId: "contoso.onmicrosoft.com", partnerId: "tv-1" },
          { tenantId: "fabrikam.onmicrosoft.com", connected: false },
        ]),
      },
    );
    assert.deepEqual(
      registered.map((r) => [r.type, r.inputs.tenantId, r.inputs.partnerId, r.inputs.connected]),
      [
        [REMOTE_ASSISTANCE_PARTNER_TYPE, "contoso.onmicrosoft.com", "tv-1", true],
        [REMOTE_ASSISTANCE_PARTNER_TYPE, "fabrikam.onmicrosoft.com", undefined, false],
      ],
    );
  });

  it("the Automation API fan-out runs one stack per tenant, never more than the bound at once, and reports failures", async () => {
    const tenants: Tenant[] = Array.from({ length: 9 }, (_, i) => ({ tenantId: `t${i}.onmicrosoft.com` }));
    let running = 0;
    let peak = 0;
    const results = await fanOut(tenants, 3, async (tenant) => {
      peak = Math.max(peak, ++running);
      await new Promise((r) => setTimeout(r, 10));
      running--;
      if (tenant.tenantId === "t4.onmicrosoft.com") throw new Error("403 Forbidden");
      return { summary: { result: "succeeded" } };
    });
    assert.equal(peak, 3);
    assert.equal(results.length, 9);
    assert.deepEqual(
      results.filter((r) => !r.ok).map((r) => [r.tenantId, r.summary]),
      [["t4.onmicrosoft.com", "403 Forbidden"]],
    );
  });
});
