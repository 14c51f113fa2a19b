import * as path from "node:path";

/**
 * Whether the module is the script node was started with: `require.main === mod`, and the running file is `script`.
 * The file name matters when a bundle includes the module (the CLI's includes the probe and the marker reader): every
 * module of a bundle shares the bundle's `module`, so only the name tells which one node was asked to run.
 */
export function isMainScript(mod: NodeModule, filename: string, script: string): boolean {
  return require.main === mod && path.basename(filename) === script;
}
