/** What both hosts (the dynamic-provider host and the `intune` plugin) call on a resource type. */
import type * as pulumi from "@pulumi/pulumi";

/**
 * A resource's operations: the `pulumi.dynamic.ResourceProvider` the serialized provider delegates to, whose
 * `diff` also names each property that differs and why (the plugin's detailed diff).
 */
export type Operations = Required<Omit<pulumi.dynamic.ResourceProvider, "configure" | "diff">> & {
  configure(req: pulumi.dynamic.ConfigureRequest): Promise<void>;
  diff(id: string, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<NamedDiff>;
  /** Reads an existing resource by its id alone (`inputs`: the program's, for the `import` option; else none). */
  importResource(id: string, inputs: Record<string, unknown>): Promise<Imported>;
};

/** What an import read: the resource (`id` empty when there is none) and the inputs to record. */
export type Imported = { id: string; props?: object; inputs?: Record<string, unknown> };

/** A diff with its properties (`diffs`, the replaced ones among them) and one reason per difference. */
export type NamedDiff = pulumi.dynamic.DiffResult & { diffs: string[]; reasons: string[] };
