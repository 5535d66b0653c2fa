/**
 * findRoleCycle: a role may not contain itself, directly or through child roles; returns the
 * path from `key` back to itself (`[a, b, a]`) in the graph where `key` has `children`, or null.
 */
export function findRoleCycle(
  key: string,
  children: readonly string[],
  graph: Readonly<Record<string, readonly string[]>>,
): string[] | null {
  const childrenOf = (role: string): readonly string[] => (role === key ? children : (graph[role] ?? []));
  const explored = new Set<string>();
  const walk = (role: string, path: string[]): string[] | null => {
    for (const child of childrenOf(role)) {
      if (child === key) return [...path, child];
      if (explored.has(child)) continue;
      explored.add(child);
      const found = walk(child, [...path, child]);
      if (found) return found;
    }
    return null;
  };
  return walk(key, [key]);
}
