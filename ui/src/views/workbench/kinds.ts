/** Where a kind of task is worked on, when it has its own page (the
 *  project kinds list their projects on the workbench instead). */
export function taskLink(kind: string): string | null {
  return ({ failed_pushes: '/pushes', rejects: '/import' } as Record<string, string>)[kind] ?? null
}
