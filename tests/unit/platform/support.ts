import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";

/** The platform project directory. */
export const PLATFORM_DIR = path.resolve(__dirname, "..", "..", "..", "platform");

/** The `nova-platform:` config of a committed platform stack file, as the engine hands it over (text values). */
export function stackFileConfig(stack: string): Record<string, string> {
  const doc = parse(fs.readFileSync(path.join(PLATFORM_DIR, `Pulumi.${stack}.yaml`), "utf8")) as {
    config: Record<string, unknown>;
  };
  return Object.fromEntries(
    Object.entries(doc.config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
}

/** The same config without the namespace (what `parsePlatformSettings` takes). */
export function stackFileKeys(stack: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(stackFileConfig(stack)).map(([k, v]) => [k.replace(/^nova-platform:/, ""), v]),
  );
}

/**
 * Records the `protect` option as sent to the engine, by logical name (`protect` is an option, not an input: the
 * mocks' newResource never sees it). Call after installing the mocks.
 */
export function recordProtect(): Map<string, boolean> {
  const wire = new Map<string, boolean>();
  type Req = { getName(): string; hasProtect(): boolean; getProtect(): boolean | undefined };
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: Req, cb: unknown): Promise<unknown>;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    wire.set(req.getName(), req.hasProtect() && req.getProtect() === true);
    return register(req, cb);
  };
  return wire;
}

/** Reads a nested input by dotted path (`nodeConfig.shieldedInstanceConfig.enableSecureBoot`). */
export function at(inputs: Record<string, unknown>, dotted: string): unknown {
  let value: unknown = inputs;
  for (const part of dotted.split(".")) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}
