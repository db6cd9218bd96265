/**
 * The `intune` resource plugin's side of Pulumi's ResourceProvider protocol: each call's request read, the
 * resource's operation (`resources.ts`) run, its answer written. Errors become gRPC errors (a partner that
 * exists but did not reach the declared state: ErrorResourceInitFailed, so that state records it as it is).
 */
import type * as grpcTypes from "@grpc/grpc-js";
import type { Struct as StructType } from "google-protobuf/google/protobuf/struct_pb";
import { UNKNOWN, isUnknown, type CheckFailure } from "../core/inputs";
import { cancelRequests } from "../core/lifeline";
import { shared } from "../core/shared";
import { configure } from "../core/runtime";
import { resolveSettings, SettingsError, type ConfigLookup } from "../core/settings";
import { FUNCTIONS, RESOURCES, type ServedResource } from "./resources";
import { CONFIG, intuneSchema } from "./schema";
import { fromStruct, reveal, toStruct, type Props } from "./wire";

const grpc = shared<typeof grpcTypes>("@grpc/grpc-js", () => require("@grpc/grpc-js"));
const { Struct } = shared<{ Struct: typeof StructType }>("google-protobuf/google/protobuf/struct_pb", () =>
  require("google-protobuf/google/protobuf/struct_pb"),
);
const { Empty } = shared<{ Empty: new () => unknown }>("google-protobuf/google/protobuf/empty_pb", () =>
  require("google-protobuf/google/protobuf/empty_pb"),
);
const { Any } = shared<{ Any: new () => { pack(b: Uint8Array, name: string): void } }>(
  "google-protobuf/google/protobuf/any_pb",
  () => require("google-protobuf/google/protobuf/any_pb"),
);
const provrpc = require("@pulumi/pulumi/proto/provider_grpc_pb");
const provproto = require("@pulumi/pulumi/proto/provider_pb");
const pluginproto = require("@pulumi/pulumi/proto/plugin_pb");
const statusproto = require("@pulumi/pulumi/proto/status_pb");

const Kind = provproto.PropertyDiff.Kind;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Call = { request: any };
type Callback = (
  error: grpcTypes.ServiceError | Partial<grpcTypes.StatusObject> | null,
  response?: unknown,
) => void;

/** The type token a URN names (`urn:pulumi:stack::project::[parent$]type::name`). */
export function typeOf(urn: string): string {
  return (urn.split("::")[2] ?? "").split("$").pop()!;
}

function resourceOf(urn: string): ServedResource {
  const served = RESOURCES[typeOf(urn)];
  if (!served) throw new Error(`the intune plugin has no resource type ${typeOf(urn)} (${urn})`);
  return served;
}

/** The plugin's handlers, by protocol method. */
export function providerService(version: string) {
  const schema = JSON.stringify(intuneSchema(version));
  const answer =
    <T>(work: (request: Call["request"]) => Promise<T> | T) =>
    (call: Call, callback: Callback) => {
      Promise.resolve()
        .then(() => work(call.request))
        .then(
          (response) => callback(null, response),
          (e: unknown) => callback(grpcError(e)),
        );
    };
  return {
    getPluginInfo: answer(() => {
      const info = new pluginproto.PluginInfo();
      info.setVersion(version);
      return info;
    }),
    getSchema: answer(() => {
      const response = new provproto.GetSchemaResponse();
      response.setSchema(schema);
      return response;
    }),
    checkConfig: answer((req) => {
      const news = fromStruct(req.getNews()).props;
      const response = new provproto.CheckResponse();
      response.setInputs(req.getNews() ?? new Struct());
      response.setFailuresList(checkConfig(news).map(failure));
      return response;
    }),
    diffConfig: answer((req) => {
      const olds = fromStruct(req.getOldInputs() ?? req.getOlds()).props;
      const news = fromStruct(req.getNews()).props;
      const changed = Object.keys({ ...olds, ...news }).filter(
        (k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]),
      );
      // Never a replacement: a new provider would replace every partner bound to it. Each resource keeps the
      // tenant its state records, so a provider's changed settings only change how it reaches Graph.
      return diffResponse(changed, [], olds, news);
    }),
    configure: answer((req) => {
      const args = fromStruct(req.getArgs()).props;
      const variables = new Map<string, string>(req.getVariablesMap().entries());
      configure({
        config: {
          get: (key: string) => settingOf(args)(key) ?? variables.get(key),
        },
      } as never);
      const response = new provproto.ConfigureResponse();
      response.setAcceptsecrets(true);
      response.setSupportspreview(true);
      response.setAcceptresources(false);
      return response;
    }),
    check: answer(async (req) => {
      const { operations } = resourceOf(req.getUrn());
      const news = fromStruct(req.getNews());
      const olds = fromStruct(req.getOlds()).props;
      const result = await operations.check(olds, news.props);
      const response = new provproto.CheckResponse();
      response.setInputs(toStruct(Struct, result.inputs ?? news.props, news.secrets));
      response.setFailuresList((result.failures ?? []).map(failure));
      return response;
    }),
    diff: answer(async (req) => {
      const { operations } = resourceOf(req.getUrn());
      const olds = fromStruct(req.getOlds()).props;
      const news = fromStruct(req.getNews()).props;
      const result = await operations.diff(req.getId(), olds, news);
      return diffResponse(result.diffs, result.replaces ?? [], olds, news);
    }),
    create: answer(async (req) => {
      const served = resourceOf(req.getUrn());
      const inputs = fromStruct(req.getProperties());
      const response = new provproto.CreateResponse();
      if (req.getPreview()) {
        response.setProperties(toStruct(Struct, previewCreate(served, inputs.props), inputs.secrets));
        return response;
      }
      const created = await served.operations.create(inputs.props);
      response.setId(created.id);
      response.setProperties(toStruct(Struct, created.outs ?? {}, inputs.secrets));
      return response;
    }),
    read: answer(async (req) => {
      const { operations } = resourceOf(req.getUrn());
      const state = fromStruct(req.getProperties());
      const inputs = fromStruct(req.getInputs());
      const response = new provproto.ReadResponse();
      // An id and no state: `pulumi import` or the import option.
      const read =
        Object.keys(state.props).length === 0
          ? await operations.importResource(req.getId(), inputs.props)
          : { ...(await operations.read(req.getId(), state.props)), inputs: inputs.props };
      response.setId(read.id ?? "");
      if (!read.id) return response; // gone
      const secrets = [...state.secrets, ...inputs.secrets];
      response.setProperties(toStruct(Struct, (read.props ?? {}) as Props, secrets));
      response.setInputs(toStruct(Struct, read.inputs ?? {}, secrets));
      return response;
    }),
    update: answer(async (req) => {
      const served = resourceOf(req.getUrn());
      const olds = fromStruct(req.getOlds());
      const news = fromStruct(req.getNews());
      const secrets = [...olds.secrets, ...news.secrets];
      const response = new provproto.UpdateResponse();
      if (req.getPreview()) {
        response.setProperties(toStruct(Struct, previewUpdate(served, olds.props, news.props), secrets));
        return response;
      }
      const updated = await served.operations.update(req.getId(), olds.props, news.props);
      response.setProperties(toStruct(Struct, updated.outs ?? {}, secrets));
      return response;
    }),
    delete: answer(async (req) => {
      await resourceOf(req.getUrn()).operations.delete(req.getId(), fromStruct(req.getProperties()).props);
      return new Empty();
    }),
    invoke: answer(async (req) => {
      const run = FUNCTIONS[req.getTok()];
      if (!run) throw new Error(`the intune plugin has no function ${req.getTok()}`);
      const response = new provproto.InvokeResponse();
      response.setReturn(
        toStruct(Struct, (await run(reveal(req.getArgs()?.toJavaScript() ?? {}) as Props)) as Props),
      );
      return response;
    }),
    cancel: answer(() => {
      cancelRequests();
      return new Empty();
    }),
  };
}

/**
 * CheckConfig: the settings the provider would resolve from these values and the environment, each problem
 * named by its key. Keys the provider does not read pass: a project named `intune` keeps its own config there.
 */
export function checkConfig(news: Props): CheckFailure[] {
  try {
    resolveSettings(settingOf(news), process.env);
    return [];
  } catch (e) {
    if (!(e instanceof SettingsError)) throw e;
    return e.problems.map((reason) => {
      const key = /intune:(\w+)/.exec(reason)?.[1];
      return { property: key && key in CONFIG ? key : "", reason };
    });
  }
}

/**
 * The provider's inputs (its own keys: `tenantId`) as the settings read them (`intune:tenantId`), as strings;
 * an unknown value (preview) is not set.
 */
function settingOf(inputs: Props): ConfigLookup {
  return (key) => {
    const value = inputs[key.replace(/^intune:/, "")];
    if (value === undefined || value === null || isUnknown(value)) return undefined;
    return typeof value === "string" ? value : JSON.stringify(value);
  };
}

function failure(f: CheckFailure) {
  const message = new provproto.CheckFailure();
  message.setProperty(f.property);
  message.setReason(f.reason);
  return message;
}

/** A DiffResponse with a detailed diff: each property that differs, added, removed or updated, and replaced or not. */
function diffResponse(diffs: string[], replaces: string[], olds: Props, news: Props) {
  const response = new provproto.DiffResponse();
  response.setChanges(
    diffs.length > 0
      ? provproto.DiffResponse.DiffChanges.DIFF_SOME
      : provproto.DiffResponse.DiffChanges.DIFF_NONE,
  );
  response.setReplacesList(replaces);
  response.setDiffsList(diffs);
  response.setDeletebeforereplace(false);
  response.setHasdetaileddiff(true);
  const detailed = response.getDetaileddiffMap();
  for (const key of diffs) {
    const replace = replaces.includes(key);
    const kind =
      olds[key] === undefined || olds[key] === null
        ? replace
          ? Kind.ADD_REPLACE
          : Kind.ADD
        : news[key] === undefined
          ? replace
            ? Kind.DELETE_REPLACE
            : Kind.DELETE
          : replace
            ? Kind.UPDATE_REPLACE
            : Kind.UPDATE;
    const diff = new provproto.PropertyDiff();
    diff.setKind(kind);
    diff.setInputdiff(false);
    detailed.set(key, diff);
  }
  return response;
}

/** What a preview of a create shows: the declared inputs, every other output not known until it runs. */
function previewCreate(served: ServedResource, inputs: Props): Props {
  return Object.fromEntries(served.outputs.map((k) => [k, inputs[k] ?? UNKNOWN]));
}

/**
 * What a preview of an update shows: the declared inputs, the recorded values of the others, and the outputs
 * that are not inputs not known until it runs. Asks Graph nothing.
 */
function previewUpdate(served: ServedResource, olds: Props, news: Props): Props {
  return Object.fromEntries(
    served.outputs.map((k) => [
      k,
      !served.inputs.includes(k) ? UNKNOWN : news[k] !== undefined ? news[k] : olds[k],
    ]),
  );
}

/** An error as the engine takes it; one with an `id` is a resource that exists (ErrorResourceInitFailed). */
function grpcError(e: unknown): Partial<grpcTypes.StatusObject> {
  const error = e instanceof Error ? e : new Error(String(e));
  const init = error as Error & { id?: string; properties?: Props; reasons?: string[] };
  const metadata = new grpc.Metadata();
  if (init.id) {
    const detail = new provproto.ErrorResourceInitFailed();
    detail.setId(init.id);
    detail.setProperties(toStruct(Struct, { ...init.properties, __provider: undefined }));
    detail.setReasonsList(init.reasons ?? [error.message]);
    const any = new Any();
    any.pack(detail.serializeBinary(), "pulumirpc.ErrorResourceInitFailed");
    const status = new statusproto.Status();
    status.setCode(grpc.status.UNKNOWN);
    status.setMessage(error.message);
    status.addDetails(any);
    metadata.add("grpc-status-details-bin", Buffer.from(status.serializeBinary()));
  }
  return { code: grpc.status.UNKNOWN, details: error.message, metadata };
}

/** Serves the plugin on a free loopback port; resolves the port. */
export async function serve(version: string): Promise<number> {
  const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
  server.addService(provrpc.ResourceProviderService, providerService(version) as never);
  return new Promise((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, port) =>
      e ? reject(e) : resolve(port),
    ),
  );
}
