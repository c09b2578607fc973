/** What `orderByNeeds` sorts: a name, and the names of what must be built before it. */
export interface Needing {
  readonly name: string;
  readonly needs: readonly string[];
}

/**
 * `entries` with each one after everything it needs (depth-first; the list's own order where
 * the needs leave it free). A need that names no entry, or a cycle, is an error naming the
 * services, so that a registration mistake fails at synth rather than as a missing step.
 */
export function orderByNeeds<T extends Needing>(entries: readonly T[]): T[] {
  const byName = new Map(entries.map((e) => [e.name, e]));
  const ordered: T[] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (entry: T): void => {
    if (done.has(entry.name)) return;
    if (path.includes(entry.name)) {
      const cycle = [...path.slice(path.indexOf(entry.name)), entry.name];
      throw new Error(`services: a dependency cycle: ${cycle.join(" → ")}`);
    }
    path.push(entry.name);
    for (const need of entry.needs) {
      const dependency = byName.get(need);
      if (!dependency) {
        throw new Error(`services: ${entry.name} needs ${need}, which is not registered`);
      }
      visit(dependency);
    }
    path.pop();
    done.add(entry.name);
    ordered.push(entry);
  };
  entries.forEach(visit);
  return ordered;
}
