/**
 * Property values as the engine sends and takes them: protobuf Structs whose secrets are wrapped
 * (`{ "4dabf…": "1b47…", value }`) and whose unknown values are a marker string.
 */
import type { Struct as StructType } from "google-protobuf/google/protobuf/struct_pb";

export type Props = Record<string, unknown>;

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

const isSecret = (v: unknown): v is { value: unknown } =>
  typeof v === "object" && v !== null && (v as Props)[SIG_KEY] === SECRET_SIG;

/** A value with every secret unwrapped. */
export function reveal(value: unknown): unknown {
  if (isSecret(value)) return reveal(value.value);
  if (Array.isArray(value)) return value.map(reveal);
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reveal(v)]));
  return value;
}

/** A Struct's properties, secrets unwrapped, and the names of the top-level ones that held a secret. */
export function fromStruct(struct: StructType | undefined): { props: Props; secrets: string[] } {
  const raw = (struct?.toJavaScript() ?? {}) as Props;
  const secrets = Object.keys(raw).filter((k) => JSON.stringify(raw[k] ?? null).includes(SIG_KEY));
  return { props: reveal(raw) as Props, secrets };
}

/** A value wrapped as a secret. */
export const asSecret = (value: unknown): Props => ({ [SIG_KEY]: SECRET_SIG, value });

/**
 * Properties as a Struct: `undefined` dropped (protobuf refuses it), the properties named in `secrets` wrapped
 * again, so that a secret input stays secret in the outputs the engine records.
 */
export function toStruct(Struct: typeof StructType, props: Props, secrets: string[] = []): StructType {
  const plain = JSON.parse(JSON.stringify(props)) as Props;
  for (const key of secrets) if (key in plain) plain[key] = asSecret(plain[key]);
  return Struct.fromJavaScript(plain as never);
}
