// What an admin changed of a staff member.
import type { StaffRole, StaffUser, StaffUserChange } from '../../api'

/** Only what the admin changed is sent; `null` when nothing was. */
export function changeOf(user: StaffUser, role: StaffRole, active: boolean): StaffUserChange | null {
  const change: StaffUserChange = { reset_password: false }
  if (role !== user.role) change.role = role
  if (active !== user.active) change.active = active
  return change.role === undefined && change.active === undefined ? null : change
}
