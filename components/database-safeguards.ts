import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { dumpLocation, dumpScript, rehearsalScript, SCRIPT_INTERPRETER } from "./database-scripts";
import { CHILD_SUFFIXES } from "../src/contract";
import { shortHash } from "../src/util/hash";
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
   * again; an unchanged release does not dump twice.
   */
  readonly releaseKey: readonly string[];
}

/**
 * Database steps that must succeed before the chart changes: a logical dump of production (written under a temporary
 * name, verified with `pg_restore --list`, then moved to its final name), then a migration rehearsal against a clone
 * restored from that dump, refused when the clone is the live database. Both run under bash with `pipefail`. The
 * database is forward-only: rollbacks never restore it.
 */
export class DatabaseSafeguards extends pulumi.ComponentResource {
  /** Where the dump of this release is. */
  public readonly dumpLocation: pulumi.Output<string>;
  /** The dump step (`dumpScript`): temporary name, `pg_restore --list`, then the final name. */
  public readonly dump: command.local.Command;
  /** The rehearsal step (`rehearsalScript`): same-database check, restore into the clone, isolated migration. */
  public readonly rehearsal: command.local.Command;

  constructor(name: string, args: DatabaseSafeguardsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nova:database:DatabaseSafeguards", name, {}, opts);

    const id = shortHash(args.releaseKey, 12);
    const location = dumpLocation(args.backupDestination, args.stack, args.release, id);
    this.dumpLocation = pulumi.output(location);

    this.dump = new command.local.Command(
      `${name}${CHILD_SUFFIXES.dump}`,
      {
        create: dumpScript(location),
        interpreter: [...SCRIPT_INTERPRETER],
        environment: { DATABASE_URL: pulumi.secret(args.databaseUrl) },
        triggers: [id],
        logging: "stdoutAndStderr",
      },
      { parent: this, ...forwardDependsOn(opts) },
    );
    this.rehearsal = new command.local.Command(
      `${name}${CHILD_SUFFIXES.migrationRehearsal}`,
      {
        create: rehearsalScript(location, args.migrationCommand),
        interpreter: [...SCRIPT_INTERPRETER],
        // The live URL is only for the same-database check; the script unsets it before anything else runs.
        environment: {
          REHEARSAL_DATABASE_URL: pulumi.secret(args.rehearsalDatabaseUrl),
          LIVE_DATABASE_URL: pulumi.secret(args.databaseUrl),
        },
        triggers: [id],
        logging: "stdoutAndStderr",
      },
      { parent: this, dependsOn: [this.dump] },
    );
    this.registerOutputs({ dumpLocation: this.dumpLocation });
  }
}
