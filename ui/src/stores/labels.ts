// The names staff read for the codes the backend speaks. They are defined
// once, in Rust, and come with the center's state at start (stores/center);
// until they arrive a code shows as itself.
import { reactive } from 'vue'
import type { Labels } from '../api'

export type LabelKind = keyof Labels
type Lists = { [K in LabelKind]: Labels[K] }

const state = reactive<{ lists: Lists | null; names: Partial<Record<LabelKind, Record<string, string>>> }>({
  lists: null,
  names: {},
})

/** Take the names the backend gave. */
export function setLabels(l: Labels): void {
  state.lists = l
  for (const kind of Object.keys(l) as LabelKind[]) {
    state.names[kind] = Object.fromEntries(l[kind].map((x) => [x.code, x.name]))
  }
}

/** The name of `code` among `kind`, the code itself when unknown, `—` for none. */
export function nameOf(kind: LabelKind, code: string | null | undefined): string {
  if (!code) return '—'
  return state.names[kind]?.[code] ?? code
}

/** Every code of `kind` with its name, in the backend's order (for selects). */
export function optionsOf<K extends LabelKind>(kind: K): Labels[K] {
  return (state.lists?.[kind] ?? []) as Labels[K]
}
