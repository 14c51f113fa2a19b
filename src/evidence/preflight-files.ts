/**
 * Writing a preflight's files: the bundle, its signed envelope and the markdown report, under a stem no earlier
 * preflight of the stack uses; and the reader the verifier uses for project-relative artifact paths.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { type EvidenceBundle, type Finding, serializeBundle } from "./model";
import { bundlePaths, stackEvidenceDir } from "./paths";
import { renderReport } from "./report";
import { ENVELOPE_SUFFIX, signBundle, type Signer } from "./signing";
import { writeFileAtomic, writeFilesUnique } from "../util/atomic-file";

/**
 * The findings a markdown report lists: given, or computed once the bundle (and its envelope) are on disk, so the
 * report says what a reader of those files will find.
 */
export type ReportFindings =
  | readonly Finding[]
  | ((written: { readonly json: string; readonly envelope?: string }) => readonly Finding[]);

/**
 * Writes the files of one preflight under a stem no earlier preflight of the stack uses (`<timestamp>`, or
 * `<timestamp>.001`, … when one of the same second exists): the bundle (and envelope) atomically and never replacing
 * a file, then the markdown report.
 */
function writePreflightFiles(
  bundle: EvidenceBundle,
  evidenceDirAbs: string,
  findings: ReportFindings,
  envelopeText: string | undefined,
): { json: string; markdown: string; envelope?: string } {
  const createdAt = new Date(bundle.createdAt);
  const names = (attempt: number) => {
    const p = bundlePaths(evidenceDirAbs, bundle.stack, createdAt, attempt);
    const json = path.basename(p.json);
    const envelope = json.replace(/-preflight\.json$/, ENVELOPE_SUFFIX);
    const markdown = path.basename(p.markdown);
    return envelopeText === undefined ? [json, markdown, envelope] : [json, envelope, markdown];
  };
  const contents = [serializeBundle(bundle), ...(envelopeText === undefined ? [] : [envelopeText])];
  const written = writeFilesUnique(stackEvidenceDir(evidenceDirAbs, bundle.stack), names, contents);
  const [json = "", second = "", third = ""] = written;
  const files =
    envelopeText === undefined ? { json, markdown: second } : { json, envelope: second, markdown: third };
  const listed = typeof findings === "function" ? findings(files) : findings;
  writeFileAtomic(files.markdown, renderReport(bundle, listed));
  return files;
}

/** Writes `<timestamp>-preflight.json` (exact canonical bytes) and `<timestamp>-preflight.md`. */
export function writeEvidence(
  bundle: EvidenceBundle,
  evidenceDirAbs: string,
  findings: ReportFindings,
): { json: string; markdown: string } {
  const { json, markdown } = writePreflightFiles(bundle, evidenceDirAbs, findings, undefined);
  return { json, markdown };
}

/**
 * Writes the bundle like {@link writeEvidence} plus its signed form, `<timestamp>-preflight.dsse.json`: the DSSE
 * envelope of the bundle's in-toto Statement (what production trusts).
 */
export async function writeSignedEvidence(
  bundle: EvidenceBundle,
  evidenceDirAbs: string,
  findings: ReportFindings,
  signer: Signer,
): Promise<{ json: string; markdown: string; envelope: string }> {
  const envelopeText = `${JSON.stringify(await signBundle(bundle, signer), null, 2)}\n`;
  const {
    json,
    markdown,
    envelope = "",
  } = writePreflightFiles(bundle, evidenceDirAbs, findings, envelopeText);
  return { json, markdown, envelope };
}

/** A reader for the verifier that resolves project-relative artifact paths. */
export function projectFileReader(projectDir: string): (rel: string) => Buffer | undefined {
  return (rel) => {
    try {
      return fs.readFileSync(path.resolve(projectDir, rel));
    } catch {
      return undefined;
    }
  };
}
