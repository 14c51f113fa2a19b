import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { dumpLocation, dumpScript, rehearsalScript } from "./database-scripts";
import { forwardDependsOn, shortHash } from "./naming";

export interface DatabaseSafeguardsArgs {
  /** Connection URL of the production database (a Pulumi secret). */
  readonly databaseUrl: pulumi.Input<string>;
  /** Connection URL of the scratch database the dump is restored into for the rehearsal (a Pulumi secret). */
  readonly rehearsalDatabaseUrl: pulumi.Input<string>;
  /** Directory or `gs://bucket/prefix` receiving the logical dump. */
  readonly backupDestination: string;
  /** Migration command, run with `DATABASE_URL` pointing at the clone. */
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
 * Database steps that must succeed before the chart changes: a logical dump of production, then a migration
 * rehearsal against a clone restored from that dump. The database is forward-only: rollbacks never restore it.
 */
export class DatabaseSafeguards extends pulumi.ComponentResource {
  /** Where the dump of this release is. */
  public readonly dumpLocation: pulumi.Output<string>;
  public readonly dump: command.local.Command;
  public readonly rehearsal: command.local.Command;

  constructor(name: string, args: DatabaseSafeguardsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("nova:database:DatabaseSafeguards", name, {}, opts);

    const id = shortHash(args.releaseKey, 12);
    const location = dumpLocation(args.backupDestination, args.stack, args.release, id);
    this.dumpLocation = pulumi.output(location);

    this.dump = new command.local.Command(
      `${name}-dump`,
      {
        create: dumpScript(location),
        environment: { DATABASE_URL: pulumi.secret(args.databaseUrl) },
        triggers: [id],
        logging: "stdoutAndStderr",
      },
      { parent: this, ...forwardDependsOn(opts) },
    );
    this.rehearsal = new command.local.Command(
      `${name}-migration-rehearsal`,
      {
        create: rehearsalScript(location, args.migrationCommand),
        environment: { REHEARSAL_DATABASE_URL: pulumi.secret(args.rehearsalDatabaseUrl) },
        triggers: [id],
        logging: "stdoutAndStderr",
      },
      { parent: this, dependsOn: [this.dump] },
    );
    this.registerOutputs({ dumpLocation: this.dumpLocation });
  }
}
