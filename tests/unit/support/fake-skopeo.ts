// A stand-in skopeo over an in-memory registry, for the unit tests of the commands that read and copy images
// (pin, promote): `name:tag` and `name@digest` map to manifest bytes; every call's arguments are recorded.
import { createHash } from "node:crypto";
import { type SkopeoRun, type SkopeoRunner } from "../../../src/registry/skopeo";

export const sha256 = (b: Buffer | string): string =>
  `sha256:${createHash("sha256").update(b).digest("hex")}`;

/** An in-memory registry behind a stand-in skopeo: `name:tag` and `name@digest` → manifest bytes. */
export class FakeSkopeo {
  readonly store = new Map<string, Buffer>();
  readonly calls: string[][] = [];
  /** Repositories (`registry/repository`) that refuse this caller, as skopeo reports a registry's 401. */
  readonly denied = new Set<string>();
  /** When set, a copy stores other bytes than it was given (a registry that rewrote the image). */
  rewrite = false;

  put(name: string, tag: string, bytes: Buffer): void {
    this.store.set(`${name}:${tag}`, bytes);
    this.store.set(`${name}@${sha256(bytes)}`, bytes);
  }

  readonly run: SkopeoRunner = (args) => Promise.resolve(this.answer(args));

  private answer(args: readonly string[]): SkopeoRun {
    this.calls.push([...args]);
    const refs = args.filter((a) => a.startsWith("docker://")).map((a) => a.slice("docker://".length));
    const fail = (stderr: string) => ({ code: 1, stdout: Buffer.alloc(0), stderr });
    if (args[0] === "inspect") {
      const ref = refs[0] ?? "";
      if (this.denied.has(ref.replace(/[:@][^/]*$/, ""))) {
        return fail(
          `time="x" level=fatal msg="Error parsing image name \\"docker://${ref}\\": reading manifest in ${ref}: errors:\\ndenied: requested access to the resource is denied\\nunauthorized: authentication required\\n"`,
        );
      }
      const found = this.store.get(refs[0] ?? "");
      return found === undefined
        ? fail(
            `time="x" level=fatal msg="Error parsing image name \\"docker://${refs[0]}\\": reading manifest: manifest unknown"`,
          )
        : { code: 0, stdout: found, stderr: "" };
    }
    const [src = "", dst = ""] = refs;
    const bytes = this.store.get(src);
    if (bytes === undefined)
      return fail(`level=fatal msg="initializing source docker://${src}: manifest unknown"`);
    const name = dst.slice(0, dst.lastIndexOf(":"));
    if (this.denied.has(name)) {
      return fail(
        `level=fatal msg="trying to reuse blob at destination: unauthorized: authentication required (401)"`,
      );
    }
    this.put(
      name,
      dst.slice(dst.lastIndexOf(":") + 1),
      this.rewrite ? Buffer.concat([bytes, Buffer.from(" ")]) : bytes,
    );
    return { code: 0, stdout: Buffer.alloc(0), stderr: "" };
  }
}
