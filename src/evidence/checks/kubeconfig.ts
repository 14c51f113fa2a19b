/** The kubeconfig exists and names the configured context. */
import { parse as parseYaml } from "yaml";
import { type CheckResult } from "../model";
import { result } from "./types";

const TITLE = "Kubeconfig names the configured context";

/**
 * @param text the kubeconfig content, or undefined when the file does not exist. Only context names are read; the
 * file is not recorded as an artifact because credentials in it rotate.
 */
export function checkKubeconfig(
  text: string | undefined,
  displayPath: string,
  context: string | undefined,
): CheckResult {
  const threshold = context === undefined ? "kubeconfigContext configured" : `context "${context}" present`;
  const remedy =
    context === undefined
      ? "pulumi config set nova-rollout:kubeconfigContext <context>"
      : `kubectl config --kubeconfig ${displayPath} get-contexts (create or rename context "${context}")`;
  if (text === undefined) {
    return result("kubeconfig", TITLE, false, `${displayPath} does not exist`, threshold, null, remedy);
  }
  let names: string[];
  try {
    const doc = parseYaml(text) as { contexts?: { name?: unknown }[] } | null;
    names = (doc?.contexts ?? []).map((c) => c.name).filter((n): n is string => typeof n === "string");
  } catch {
    return result("kubeconfig", TITLE, false, `${displayPath} is not valid YAML`, threshold, null, remedy);
  }
  const pass = context !== undefined && names.includes(context);
  return result(
    "kubeconfig",
    TITLE,
    pass,
    `${displayPath} has contexts [${names.join(", ")}]`,
    threshold,
    null,
    remedy,
  );
}
