// How a party asked to be reached (3.4), and which staff pushes a work group
// can follow: the codes with the names the backend gives them.
import { computed } from 'vue'
import { optionsOf } from '../stores/labels'

/** A party's choice, blank for the center's rule. */
export function usePreferOptions() {
  return computed(() => [{ value: '', label: '按中心规则' }, ...optionsOf('reaches').map((o) => ({ value: o.code as string, label: o.name }))])
}

/** What the center does for a party with both a phone and an email. */
export function useBothOptions() {
  return computed(() => optionsOf('reaches').filter((o) => o.code !== 'none'))
}

/** The staff whose pushes a DingTalk or WeCom work group can follow. */
export function useGroupRoles() {
  return computed(() => optionsOf('roles').filter((r) => r.code === 'center_staff' || r.code === 'supervisor_staff'))
}
