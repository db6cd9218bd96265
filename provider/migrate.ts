/**
 * Moving a stack from the dynamic resources to the `intune` plugin without a Graph call: the stack's state is
 * rewritten (`pulumi stack export`, {@link toPluginState}, `pulumi stack import`) so that each
 * RemoteAssistancePartner and RemoteAssistanceSettings becomes the plugin's resource of the same name, with the
 * same id, inputs and outputs (what the stack created or adopted, Remote Help's original values) and no
 * serialized provider. The program then declares the plugin's resources under the same names and previews with
 * no change: nothing is disconnected, deleted, created or reset.
 */
import { randomUUID } from "node:crypto";

/** The dynamic type tokens and the plugin's, each to each. */
export const PLUGIN_TYPES: Record<string, string> = {
  "pulumi-nodejs:dynamic/intune:RemoteAssistancePartner": "intune:index:RemoteAssistancePartner",
  "pulumi-nodejs:dynamic/intune:RemoteAssistanceSettings": "intune:index:RemoteAssistanceSettings",
};

/** A resource of a deployment (`pulumi stack export`), the fields this rewrite reads. */
interface StateResource {
  urn: string;
  type: string;
  custom?: boolean;
  id?: string;
  provider?: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
  [field: string]: unknown;
}

/** `pulumi stack export`'s document. */
export interface ExportedStack {
  version: number;
  deployment: { resources?: StateResource[]; pending_operations?: unknown[]; [field: string]: unknown };
}

/** What a rewrite did: the document to import, and the resources it moved (old URN → new URN). */
export interface Migration {
  state: ExportedStack;
  moved: Record<string, string>;
}

/**
 * The state with every dynamic intune resource moved to the plugin: its type and URN, `__provider` dropped from
 * its inputs, outputs and property dependencies, its provider a default `intune` provider added to the state, every reference to its
 * URN (parents, dependencies) following it. Pure. Refuses a state with pending operations (an interrupted run:
 * finish it first) and one where a plugin resource of the same URN exists already.
 */
export function toPluginState(exported: ExportedStack, newId: () => string = randomUUID): Migration {
  const deployment = exported.deployment;
  if ((deployment.pending_operations ?? []).length > 0) {
    throw new Error(
      "The stack has pending operations (an interrupted run): finish them first (pulumi refresh, or pulumi cancel " +
        "then pulumi refresh --clear-pending-creates), then migrate. Nothing was changed.",
    );
  }
  const resources = deployment.resources ?? [];
  const moved: Record<string, string> = {};
  for (const r of resources) {
    const target = PLUGIN_TYPES[r.type];
    if (target)
      moved[r.urn] = r.urn.replace(`::${r.type}::`, `::${target}::`).replace(`$${r.type}::`, `$${target}::`);
  }
  const urns = new Set(resources.map((r) => r.urn));
  const taken = Object.values(moved).filter((urn) => urns.has(urn));
  if (taken.length > 0)
    throw new Error(
      `The stack already holds ${taken.join(", ")}: nothing to migrate there. Nothing was changed.`,
    );
  if (Object.keys(moved).length === 0) return { state: exported, moved };

  const first = resources.find((r) => moved[r.urn])!;
  const stackPart = first.urn.split("::").slice(0, 2).join("::"); // urn:pulumi:<stack>::<project>
  const providerUrn = `${stackPart}::pulumi:providers:intune::default`;
  if (urns.has(providerUrn))
    throw new Error(`The stack already holds ${providerUrn}: migrate it by hand. Nothing was changed.`);
  const provider: StateResource = {
    urn: providerUrn,
    custom: true,
    id: newId(),
    type: "pulumi:providers:intune",
    inputs: {},
    outputs: {},
  };
  const providerRef = `${providerUrn}::${provider.id}`;

  const follow = (value: unknown): unknown => {
    if (typeof value === "string") return moved[value] ?? value;
    if (Array.isArray(value)) return value.map(follow);
    if (value && typeof value === "object")
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, follow(v)]));
    return value;
  };
  const rewritten = resources.flatMap((r): StateResource[] => {
    if (!moved[r.urn]) return [follow(r) as StateResource];
    const inputs = withoutCode(r.inputs);
    const outputs = withoutCode(r.outputs);
    const followed = follow(r) as StateResource;
    const plugin = {
      ...followed,
      urn: moved[r.urn],
      type: PLUGIN_TYPES[r.type],
      provider: providerRef,
      inputs,
      outputs,
      ...(followed.propertyDependencies
        ? { propertyDependencies: withoutCode(followed.propertyDependencies as Record<string, unknown>) }
        : {}),
    };
    return r === first ? [provider, plugin] : [plugin];
  });
  return { state: { ...exported, deployment: { ...deployment, resources: rewritten } }, moved };
}

/** Properties without the serialized provider. */
function withoutCode(props: Record<string, unknown> = {}): Record<string, unknown> {
  return Object.fromEntries(Object.entries(props).filter(([k]) => k !== "__provider"));
}
