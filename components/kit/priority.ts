/** The stack's PriorityClass and how a pod gets it. */
/**
 * The stack's PriorityClass: cluster-scoped, so named after the stack's namespace, which
 * is the stack's own on a shared cluster (staging and production side by side).
 */
export function stackPriorityClassName(namespace: string): string {
  return `${namespace}-priority`;
}

/** `priorityClassName` on a pod spec when the stack has a class; nothing otherwise. */
export function podPriority(priorityClassName: string | undefined): { priorityClassName?: string } {
  return priorityClassName ? { priorityClassName } : {};
}
