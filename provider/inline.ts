/**
 * Runs a Pulumi command whose program runs inline, in this process, as the Automation API runs inline programs:
 *
 *     node bin/scripts/inline.js <program.ts|js> <pulumi> <command> [args...]
 *
 * in the program's directory. It serves the program with @pulumi/pulumi's own language runtime (the
 * `LanguageServer` of `@pulumi/pulumi/automation`, resolved from the working directory) and runs the real CLI
 * with `--client=<its address> --exec-kind auto.inline`: the engine, the plugins and the state are the CLI's;
 * only the Node.js language plugin (`pulumi-language-nodejs`) is not needed. Commands that do not run the
 * program (`stack`, `config`, `import`…) need no inline runtime: run the CLI itself. Exits with the CLI's code.
 */
import { spawn } from "node:child_process";
import { dirname, isAbsolute, resolve, sep } from "node:path";
import { runsProgram } from "./runPulumi";

function fromProgram(id: string): string {
  return require.resolve(id, { paths: [process.cwd()] });
}

/**
 * The ts-node and TypeScript a TypeScript program runs with, chosen as the Node.js language plugin chooses them
 * (`@pulumi/pulumi/tsutils`): the program's own where it has them, else the ones `@pulumi/pulumi` vendors.
 */
function typeScriptOfProgram(): { tsNode: { register(options: object): void }; compiler: string } {
  let tsnode = "ts-node";
  let compiler = "typescript";
  try {
    ({ tsnodeRequire: tsnode, typescriptRequire: compiler } = require(
      fromProgram("@pulumi/pulumi/tsutils"),
    ).typeScriptRequireStrings());
  } catch {
    // an SDK without tsutils: the program's own
  }
  const resolved = isAbsolute(tsnode) ? tsnode : fromProgram(tsnode);
  return { tsNode: require(resolved), compiler };
}

async function main(argv: string[]): Promise<number> {
  const [programFile, cli, command, ...args] = argv;
  if (!programFile || !cli || !command) {
    process.stderr.write("usage: node inline.js <program.ts|js> <pulumi> <command> [args...]\n");
    return 2;
  }
  if (!runsProgram(command)) {
    process.stderr.write(`inline.js: pulumi ${command} does not run the program: run the CLI itself\n`);
    return 2;
  }
  const program = resolve(programFile);
  if (program.endsWith(".ts")) {
    const { tsNode, compiler } = typeScriptOfProgram();
    tsNode.register({
      compiler,
      transpileOnly: true,
      compilerOptions: { module: "commonjs", target: "es2019", esModuleInterop: true },
    });
  }
  const grpc = require(require.resolve("@grpc/grpc-js", { paths: [fromProgram("@pulumi/pulumi")] }));
  const { LanguageServer } = require(fromProgram("@pulumi/pulumi/automation/server"));
  const langrpc = require(fromProgram("@pulumi/pulumi/proto/language_grpc_pb"));
  const server = new grpc.Server();
  // The engine runs the program once per pass (`pulumi up` previews, then updates): each run requires it afresh,
  // as the language plugin starts a new process for each. A cached module would register nothing the second
  // time, and the engine would take that for a program that declares nothing.
  const programDir = dirname(program) + sep;
  const language = new LanguageServer(async () => {
    for (const key of Object.keys(require.cache)) {
      if (key.startsWith(programDir) && !key.includes(`${sep}node_modules${sep}`)) delete require.cache[key];
    }
    return require(program);
  });
  server.addService(langrpc.LanguageRuntimeService, language);
  const port = await new Promise<number>((ok, fail) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e: Error | null, p: number) =>
      e ? fail(e) : ok(p),
    ),
  );
  const child = spawn(cli, [command, ...args, `--client=127.0.0.1:${port}`, "--exec-kind", "auto.inline"], {
    stdio: "inherit",
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  const code = await new Promise<number>((ok) =>
    child.on("close", (c, signal) => ok(c ?? (signal ? 128 : 1))),
  );
  try {
    language.onPulumiExit(code !== 0);
  } catch {
    // a leak report after a failed run adds nothing to the CLI's own error
  }
  server.forceShutdown();
  return code;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`inline.js: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
