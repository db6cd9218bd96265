/**
 * The plugin's schema against the TypeScript it describes: the dynamic resources' args and outputs, the
 * outputs the lifecycle writes, the settings the provider reads and what the functions return. A property
 * added to one and not the other fails here.
 */
import { strict as assert } from "node:assert";
import { join } from "node:path";
import * as ts from "typescript";
import { INPUT_NAMES, toOutputs } from "../provider/partner/lifecycle";
import { REMOTE_HELP_INPUT_NAMES } from "../provider/remoteHelp/lifecycle";
import { resolveSettings } from "../provider/core/settings";
import {
  GET_PARTNER_TOKEN,
  GET_PARTNERS_TOKEN,
  intuneSchema,
  PARTNER_TOKEN,
  SETTINGS_TOKEN,
} from "../provider/plugin/schema";
import { REPO_ROOT } from "./support/repo";

type SchemaProperty = { type?: string; $ref?: string; items?: SchemaProperty };

const program = ts.createProgram(
  ["partner/resource.ts", "remoteHelp/resource.ts", "partner/lookups.ts"].map((f) =>
    join(REPO_ROOT, "provider", f),
  ),
  { strict: true },
);
const checker = program.getTypeChecker();

/** The members of an interface or the `declare readonly` outputs of a class, with the schema type of each. */
function members(file: string, name: string): Record<string, string> {
  const source = program.getSourceFile(join(REPO_ROOT, "provider", file))!;
  const found: Record<string, string> = {};
  ts.forEachChild(source, (node) => {
    if ((ts.isInterfaceDeclaration(node) || ts.isClassDeclaration(node)) && node.name?.text === name) {
      for (const member of node.members) {
        if (!ts.isPropertySignature(member) && !ts.isPropertyDeclaration(member)) continue;
        const declared = member.modifiers?.some((m) => m.kind === ts.SyntaxKind.DeclareKeyword);
        if (ts.isPropertyDeclaration(member) && !declared) continue;
        found[(member.name as ts.Identifier).text] = schemaTypeOf(member.type!);
      }
    }
  });
  return found;
}

/** The schema type a TypeScript type is written as, `pulumi.Input<…>` and `pulumi.Output<…>` unwrapped. */
function schemaTypeOf(node: ts.TypeNode): string {
  const wrapped =
    ts.isTypeReferenceNode(node) && /^pulumi\.(Input|Output)$/.test(node.typeName.getText())
      ? node.typeArguments![0]
      : node;
  const type = checker.getNonNullableType(checker.getTypeFromTypeNode(wrapped));
  if (
    type.flags & ts.TypeFlags.BooleanLike ||
    (type.isUnion() && type.types.every((t) => t.flags & ts.TypeFlags.BooleanLike))
  )
    return "boolean";
  if (
    type.flags & ts.TypeFlags.StringLike ||
    (type.isUnion() && type.types.every((t) => t.flags & ts.TypeFlags.StringLike))
  )
    return "string";
  if (checker.isArrayType(type)) return "array";
  return "object";
}

const schema = intuneSchema("1.2.3");
const typeOfSchema = (p: SchemaProperty) =>
  p.$ref ? "object" : p.type === "integer" || p.type === "number" ? "number" : p.type!;
const schemaMembers = (properties: Record<string, SchemaProperty>) =>
  Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, typeOfSchema(v)]));
const sorted = (o: Record<string, string>) =>
  Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));

describe("the intune plugin's schema", () => {
  it("describes RemoteAssistancePartner's inputs as RemoteAssistancePartnerArgs and check declare them, by name and type", () => {
    const inputs = schema.resources[PARTNER_TOKEN].inputProperties;
    assert.deepEqual(
      sorted(schemaMembers(inputs)),
      sorted(members("partner/resource.ts", "RemoteAssistancePartnerArgs")),
    );
    assert.deepEqual(Object.keys(inputs).sort(), [...INPUT_NAMES].sort());
  });

  it("describes RemoteAssistancePartner's outputs as the class declares them and the lifecycle writes them", () => {
    const outputs = schema.resources[PARTNER_TOKEN].properties;
    assert.deepEqual(
      sorted(schemaMembers(outputs)),
      sorted(members("partner/resource.ts", "RemoteAssistancePartner")),
    );
    const written = toOutputs(
      { id: "p", displayName: "x", onboardingUrl: null, onboardingStatus: "notOnboarded" },
      { tenantId: "t", apiVersion: "beta", deleteOnDestroy: true, adopted: false },
      0,
    );
    assert.deepEqual(Object.keys(outputs).sort(), Object.keys(written).sort());
  });

  it("describes RemoteAssistanceSettings' inputs and outputs as its args and class declare them", () => {
    const resource = schema.resources[SETTINGS_TOKEN];
    assert.deepEqual(
      sorted(schemaMembers(resource.inputProperties)),
      sorted(members("remoteHelp/resource.ts", "RemoteAssistanceSettingsArgs")),
    );
    assert.deepEqual(Object.keys(resource.inputProperties).sort(), [...REMOTE_HELP_INPUT_NAMES].sort());
    const declared = members("remoteHelp/resource.ts", "RemoteAssistanceSettings");
    // `instance` tells two resources of one tenant apart: in state, not on the Node.js class.
    assert.deepEqual(sorted(schemaMembers(resource.properties)), sorted({ ...declared, instance: "string" }));
  });

  it("lists as the provider's configuration exactly the intune:* keys the provider reads", () => {
    const read = new Set<string>();
    resolveSettings((key) => (read.add(key.replace(/^intune:/, "")), undefined), {});
    assert.deepEqual(Object.keys(schema.config.variables).sort(), [...read].sort());
    assert.deepEqual(schema.provider.inputProperties, schema.config.variables);
    for (const key of ["clientSecret", "clientCertificatePassword"])
      assert.equal(schema.config.variables[key].secret, true, `${key} is secret`);
  });

  it("describes the functions' results as PartnerInfo", () => {
    const info = members("partner/lookups.ts", "PartnerInfo");
    assert.deepEqual(
      sorted(schemaMembers(schema.types["intune:index:PartnerInfo"].properties)),
      sorted(info),
    );
    const one = schema.functions[GET_PARTNER_TOKEN].outputs.properties;
    assert.deepEqual(sorted(schemaMembers(one)), sorted({ ...info, tenantId: "string" }));
    assert.deepEqual(Object.keys(schema.functions[GET_PARTNERS_TOKEN].outputs.properties).sort(), [
      "partners",
      "tenantId",
    ]);
  });
});
