import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { CI_SCHEDULES_JOB, pauseCommandName, resumeCommandName } from "../src/contract";
import { shellQuote } from "../src/util/shell";
import { forwardDependsOn } from "./depends-on";
import { listedTwice, resumeCommands } from "./scheduled-jobs";

export interface CiSchedulesArgs {
  /** GitHub Actions workflows whose schedules could reach production: `owner/repo:workflow.yml`. */
  readonly workflows: readonly string[];
  /** The GitHub REST API (`https://api.github.com`; GitHub Enterprise Server: `https://<host>/api/v3`). */
  readonly apiUrl: string;
  /** Read each workflow's state and report what would change; change nothing. */
  readonly dryRun: boolean;
  /** Compiled `src/ci/schedules.js`, relative to the project directory (where the command provider runs). */
  readonly script: string;
  /** Values that identify the release; the pause and resume run again when any changes. */
  readonly releaseKey: readonly string[];
}

/** The command line that disables or enables every listed workflow. Pure. */
export function schedulesCommand(args: CiSchedulesArgs, enable: boolean): string {
  return [
    "node",
    shellQuote(args.script),
    enable ? "enable" : "disable",
    "--api",
    shellQuote(args.apiUrl),
    ...(args.dryRun ? ["--dry-run"] : []),
    ...args.workflows.map(shellQuote),
  ].join(" ");
}

function checkArgs(args: CiSchedulesArgs): void {
  const errors = listedTwice("workflows", args.workflows);
  if (errors.length > 0) {
    throw new pulumi.InputPropertiesError({ message: "CiSchedules: duplicate workflows", errors });
  }
}

/**
 * The CI schedules that could reach production, disabled before the chart changes (one command for all listed
 * workflows; none without workflows). The token is the deploying process's `GITHUB_TOKEN`: never an input, so never in
 * state. {@link ResumeCiSchedules} enables them only after post-deploy verification passed.
 */
export class CiSchedules extends pulumi.ComponentResource {
  /** The pause command, when workflows are listed; the chart depends on it. */
  public readonly pauses: command.local.Command[];

  constructor(name: string, args: CiSchedulesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nova:jobs:CiSchedules", name, {}, opts);
    checkArgs(args);
    this.pauses =
      args.workflows.length === 0
        ? []
        : [
            new command.local.Command(
              pauseCommandName(name, CI_SCHEDULES_JOB),
              { create: schedulesCommand(args, false), triggers: [...args.releaseKey] },
              { parent: this, ...forwardDependsOn(opts) },
            ),
          ];
    this.registerOutputs({ paused: args.workflows });
  }
}

export interface ResumeCiSchedulesArgs extends CiSchedulesArgs {
  /** {@link CiSchedules.pauses}: the resume runs after the pause, and again whenever the pause ran again. */
  readonly pauses: readonly pulumi.CustomResource[];
}

/** Enables the workflows {@link CiSchedules} disabled; create it with `dependsOn` on the post-deploy verification. */
export class ResumeCiSchedules extends pulumi.ComponentResource {
  public readonly resumes: command.local.Command[];

  constructor(name: string, args: ResumeCiSchedulesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nova:jobs:ResumeCiSchedules", name, {}, opts);
    checkArgs(args);
    this.resumes = resumeCommands(this, opts, args.releaseKey, args.pauses, () => ({
      name: resumeCommandName(name, CI_SCHEDULES_JOB),
      create: schedulesCommand(args, true),
    }));
    this.registerOutputs({ resumed: args.workflows });
  }
}
