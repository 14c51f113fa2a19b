import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import {
  connectionEnv,
  dumpLocationFrom,
  dumpPrefix,
  dumpScript,
  rehearsalScript,
  SCRIPT_INTERPRETER,
} from "./database-scripts";
import { CHILD_SUFFIXES } from "../src/contract";
import { shortHash } from "../src/util/hash";
import { boundedInterpreter, DEFAULT_DATABASE_TIMEOUT_SECONDS } from "../src/util/timeout";
import { forwardDependsOn } from "./depends-on";

export interface DatabaseSafeguardsArgs {
  /** Connection URL of the production database (a Pulumi secret). */
  readonly databaseUrl: pulumi.Input<string>;
  /**
   * Connection URL of the scratch database the dump is restored into for the rehearsal (a Pulumi secret). It must not
   * reach the live database: the stack config refuses the same host, port and database, and the rehearsal script
   * compares the database name and system identifier of both connections before `pg_restore --clean`.
   */
  readonly rehearsalDatabaseUrl: pulumi.Input<string>;
  /** Absolute directory or `gs://bucket/prefix` receiving the logical dump (see `backupDestinationProblem`). */
  readonly backupDestination: string;
  /**
   * Migration command, run with `DATABASE_URL` pointing at the clone and otherwise only the allow-listed environment
   * (`COMMAND_ENV_ALLOWLIST`: PATH, HOME, LANG, TMPDIR); nothing else of the deploying process reaches it.
   */
  readonly migrationCommand: string;
  /** Stack name, part of the dump's file name. */
  readonly stack: string;
  /** Release id (image tag), part of the dump's file name. */
  readonly release: string;
  /**
   * Values that identify the release (e.g. the image digests). When any changes, the dump and the rehearsal run
   * again; an unchanged release does not dump twice. The first release after a rollback dumps again whatever its
   * values.
   */
  readonly releaseKey: readonly string[];
  /**
   * `release` (default): dump, then rehearse the migration. `rollback`: the update restores an earlier release and
   * does no database work (the database is forward-only; a rollback never migrates). Default: `release`.
   */
  readonly mode?: "release" | "rollback";
  /**
   * Bound of each step (dump, rehearsal), in whole seconds: the step's whole process group is killed past it and the
   * step fails, so a stuck dump never holds the stack's lock. Default {@link DEFAULT_DATABASE_TIMEOUT_SECONDS} (6 h).
   */
  readonly timeoutSeconds?: number;
}

/**
 * Database steps that must succeed before the chart changes: a logical dump of production (written under a temporary
 * name, verified with `pg_restore --list`, then given a name of its own, `<stack>-<release>-<id>-<UTC time>.dump`,
 * never over an existing object), then a migration rehearsal against a clone restored from that dump, refused when
 * the clone is the live database. Both run under bash with `pipefail`; passwords reach the PostgreSQL clients through
 * their environment, never their command line.
 *
 * The database is forward-only: a rollback neither restores it nor dumps it (mode `rollback`). Both commands then stay
 * registered (the ordering policy and the chart's dependencies still see them) without a `create` script, their
 * recorded triggers kept (`ignoreChanges`): the engine records an in-place update that runs nothing (the provider
 * runs `update`, else `create`, and there is neither), nothing is replaced, and earlier dumps are left as they are.
 * Because the recorded inputs changed, the next release updates both commands again, which runs the dump and the
 * rehearsal, even when it re-deploys the very release the rollback replaced.
 */
export class DatabaseSafeguards extends pulumi.ComponentResource {
  /**
   * Where the newest dump is: the one this update wrote, or after a rollback the one recorded before it (the dump
   * taken before the release the rollback replaced). Empty before any dump; unknown in a preview that dumps.
   */
  public readonly dumpLocation: pulumi.Output<string>;
  /** The dump step (`dumpScript`): temporary name, `pg_restore --list`, then a name of its own. */
  public readonly dump: command.local.Command;
  /** The rehearsal step (`rehearsalScript`): same-database check, restore into the clone, isolated migration. */
  public readonly rehearsal: command.local.Command;

  constructor(name: string, args: DatabaseSafeguardsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nova:database:DatabaseSafeguards", name, {}, opts);

    const id = shortHash(args.releaseKey, 12);
    const rollback = args.mode === "rollback";
    const interpreter = boundedInterpreter(
      args.timeoutSeconds ?? DEFAULT_DATABASE_TIMEOUT_SECONDS,
      SCRIPT_INTERPRETER,
    );
    const live = pulumi.output(args.databaseUrl).apply((url) => connectionEnv("LIVE", url));
    const clone = pulumi.output(args.rehearsalDatabaseUrl);
    // A rollback keeps the recorded triggers (no replacement) and gives the commands nothing to run.
    const keep: pulumi.CustomResourceOptions = rollback ? { ignoreChanges: ["triggers"] } : {};

    this.dump = new command.local.Command(
      `${name}${CHILD_SUFFIXES.dump}`,
      {
        ...(rollback
          ? {}
          : {
              create: dumpScript(dumpPrefix(args.backupDestination, args.stack, args.release, id)),
              environment: pulumi.secret(live),
            }),
        interpreter,
        triggers: [id],
        logging: "stdoutAndStderr",
      },
      { parent: this, ...forwardDependsOn(opts), ...keep },
    );
    // The location the dump reported. It is no secret; the provider stores stdout as one because the environment is.
    const location = pulumi.unsecret(this.dump.stdout.apply((out) => dumpLocationFrom(out) ?? ""));
    this.dumpLocation = location;
    this.rehearsal = new command.local.Command(
      `${name}${CHILD_SUFFIXES.migrationRehearsal}`,
      {
        ...(rollback
          ? {}
          : {
              create: location.apply((l) => rehearsalScript(l, args.migrationCommand)),
              // The live connection is only for the same-database check; the script unsets it before anything else.
              environment: pulumi.secret(
                pulumi.all([live, clone]).apply(([l, url]) => ({
                  ...l,
                  ...connectionEnv("REHEARSAL", url),
                  MIGRATION_DATABASE_URL: url,
                })),
              ),
            }),
        interpreter,
        triggers: [id],
        logging: "stdoutAndStderr",
      },
      { parent: this, dependsOn: [this.dump], ...keep },
    );
    this.registerOutputs({ dumpLocation: this.dumpLocation });
  }
}
