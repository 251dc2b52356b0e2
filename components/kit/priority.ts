/** The stack's PriorityClass and how a pod gets it. */
import type { StackConfig } from "../../config";

/**
 * The stack's PriorityClass: cluster-scoped, so named after the stack's namespace, which
 * is the stack's own on a shared cluster (staging and production side by side).
 */
export function stackPriorityClassName(namespace: string): string {
  return `${namespace}-priority`;
}

/** The PriorityClass the stack's pods get from the stack config (priorityClass), if any. */
export function stackPriorityClass(cfg: Pick<StackConfig, "namespace" | "priorityClass">): string | undefined {
  return cfg.priorityClass.enabled ? stackPriorityClassName(cfg.namespace) : undefined;
}

/** `priorityClassName` on a pod spec when the stack has a class; nothing otherwise. */
export function podPriority(priorityClassName: string | undefined): { priorityClassName?: string } {
  return priorityClassName ? { priorityClassName } : {};
}
