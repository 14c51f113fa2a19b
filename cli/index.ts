#!/usr/bin/env node
/**
 * nova-rollout: the release playbook as commands.
 *
 *   pin → freeze → preflight → approve (/ override) → preview → up → verify → post-launch; history → rollback (/ recover)
 *
 * Every engine call runs with the toolchain environment (tools/toolchain.ts, cli/backend.ts): through the Automation
 * API, loaded on first use (cli/engine.ts), except `preview`, which runs `pulumi preview` itself.
 *
 * Layers: `commands/` parse flags and call `actions/` (the playbook steps); a command never imports another command,
 * and an action never imports a command. Both use the shared modules beside this file (errors and exit codes, output,
 * shared options, history, the engine).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Command } from "commander";
import { approveCommand } from "./commands/approve";
import { freezeCommand } from "./commands/freeze";
import { overrideCommand } from "./commands/override";
import { postLaunchCommand } from "./commands/post-launch";
import { preflightCommand } from "./commands/preflight";
import { historyCommand } from "./commands/history";
import { previewCommand } from "./commands/preview";
import { recoverCommand } from "./commands/recover";
import { rollbackCommand } from "./commands/rollback";
import { requestUpdateCommand, upCommand } from "./commands/up";
import { verifyCommand } from "./commands/verify";
import { authorizeRestoreCommand, restoreDbCommand } from "./commands/restore-db";
import { keysCommand } from "./commands/keys";
import { pinCommand } from "./commands/pin";
import { promoteCommand } from "./commands/promote";
import { driftCommand, statusCommand } from "./commands/operate";
import { describeFailure, EXIT, exitCodesHelp, exitCodesMarkdown } from "./errors";
import { isMainScript } from "../src/util/entry";

/** The version of this checkout's package.json (the CLI runs from dist/cli or cli/). */
function packageVersion(): string {
  for (const rel of ["../../package.json", "../package.json"]) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, rel), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "nova-rollout" && typeof pkg.version === "string") return pkg.version;
    } catch {
      // try the next location
    }
  }
  return "unknown";
}

export function buildProgram(): Command {
  const program = new Command("nova-rollout")
    .description("Roll Nova RMS out with the readiness gate, verification and history-based rollback.")
    .version(packageVersion(), "-V, --version", "print the nova-rollout version")
    .showHelpAfterError()
    .addHelpText("after", exitCodesHelp())
    .exitOverride();
  for (const command of [
    pinCommand(),
    promoteCommand(),
    preflightCommand(),
    freezeCommand(),
    approveCommand(),
    overrideCommand(),
    previewCommand(),
    upCommand(),
    requestUpdateCommand(),
    verifyCommand(),
    historyCommand(),
    rollbackCommand(),
    recoverCommand(),
    restoreDbCommand(),
    authorizeRestoreCommand(),
    postLaunchCommand(),
    statusCommand(),
    driftCommand(),
    keysCommand(),
    exitCodesCommand(),
  ]) {
    program.addCommand(command.exitOverride());
  }
  return program;
}

/** `exit-codes`: the exit code table (`--markdown`: the README's table, which a unit test keeps equal to this). */
function exitCodesCommand(): Command {
  return new Command("exit-codes")
    .description("Print the exit code table (--markdown: as in the README)")
    .option("--markdown", "print the Markdown table")
    .action((o: { markdown?: boolean }) => {
      process.stdout.write(`${o.markdown === true ? exitCodesMarkdown() : exitCodesHelp().trimStart()}\n`);
    });
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv], { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    // commander has printed its own message: help and version exit 0, any usage mistake exits 2.
    const code = (err as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("commander.")) {
      return code === "commander.helpDisplayed" || code === "commander.version" ? EXIT.ok : EXIT.usage;
    }
    const failure = describeFailure(err);
    process.stderr.write(`error: ${failure.message}\n`);
    return failure.code;
  }
}

if (isMainScript(module, __filename, "index.js")) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
