import * as fs from "fs";

/** What a pod spec says about its security, as far as the restricted-baseline check reads it. */
export interface SecurityPodSpec {
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  automountServiceAccountToken?: boolean;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
  volumes?: Array<{ name?: string; hostPath?: { path: string } }>;
  containers: Array<{
    name: string;
    ports?: Array<{ hostPort?: number }>;
    securityContext?: {
      privileged?: boolean;
      allowPrivilegeEscalation?: boolean;
      readOnlyRootFilesystem?: boolean;
      runAsNonRoot?: boolean;
      runAsUser?: number;
      capabilities?: { add?: string[]; drop?: string[] };
      seccompProfile?: { type: string };
    };
  }>;
}

/**
 * Where a pod departs from the restricted Pod Security Standard and the house rules
 * (read-only root, no service-account token): one entry per departure, so a test can
 * compare them with exactly the exceptions a component documents.
 */
export function restrictedExceptions(pod: SecurityPodSpec): string[] {
  const found: string[] = [];
  if (pod.hostNetwork) found.push("hostNetwork");
  if (pod.hostPID) found.push("hostPID");
  if (pod.hostIPC) found.push("hostIPC");
  for (const v of pod.volumes ?? []) if (v.hostPath) found.push(`hostPath:${v.hostPath.path}`);
  if (pod.automountServiceAccountToken !== false) found.push("serviceAccountToken");
  for (const c of pod.containers) {
    const s = c.securityContext ?? {};
    if (s.privileged) found.push(`${c.name}:privileged`);
    if (s.allowPrivilegeEscalation !== false) found.push(`${c.name}:allowPrivilegeEscalation`);
    if (s.readOnlyRootFilesystem !== true) found.push(`${c.name}:writableRoot`);
    if ((s.runAsNonRoot ?? pod.securityContext?.runAsNonRoot) !== true) found.push(`${c.name}:root`);
    if ((s.runAsUser ?? pod.securityContext?.runAsUser) === 0) found.push(`${c.name}:uid0`);
    if ((s.seccompProfile ?? pod.securityContext?.seccompProfile)?.type !== "RuntimeDefault") found.push(`${c.name}:seccomp`);
    if (JSON.stringify(s.capabilities?.drop) !== JSON.stringify(["ALL"])) found.push(`${c.name}:capabilitiesKept`);
    if ((s.capabilities?.add ?? []).length > 0) found.push(`${c.name}:capabilitiesAdded`);
    for (const p of c.ports ?? []) if (p.hostPort !== undefined) found.push(`${c.name}:hostPort`);
  }
  return found;
}

/**
 * Where a component's source sets one of its exceptions (lines matching `setting`,
 * whose first capture group that matched names it), and the comment block just above
 * each: a reviewer reads why next to what.
 */
export function exceptionComments(sourceFile: string, setting: RegExp): Array<{ name: string; comment: string }> {
  const source = fs.readFileSync(sourceFile, "utf8").split("\n");
  const found: Array<{ name: string; comment: string }> = [];
  source.forEach((line, i) => {
    const m = setting.exec(line.trim());
    if (!m) return;
    const comment: string[] = [];
    for (let j = i - 1; j >= 0 && source[j].trim().startsWith("//"); j--) comment.unshift(source[j].trim());
    found.push({ name: m.slice(1).find((g) => g !== undefined) ?? m[0], comment: comment.join(" ") });
  });
  return found;
}
