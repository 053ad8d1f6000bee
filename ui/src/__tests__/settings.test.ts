import { describe, expect, it } from 'vitest'
import { changeOf } from '../views/settings/roles'
import { matches } from '../views/settings/templates'
import type { StaffUser, TemplatePreview } from '../api'

const wang: StaffUser = {
  username: 'wangfang',
  name: '王芳',
  role: 'supervisor_staff',
  role_name: '行政监督部门工作人员',
  phone: null,
  email: null,
  active: true,
  must_change_password: false,
  locked: false,
}

describe('a change to a colleague', () => {
  it('sends only what the admin changed', () => {
    expect(changeOf(wang, 'supervisor_staff', true)).toBeNull()
    expect(changeOf(wang, 'supervisor', true)).toEqual({ role: 'supervisor', reset_password: false })
    expect(changeOf(wang, 'supervisor_staff', false)).toEqual({ active: false, reset_password: false })
  })
})

describe('the template filter', () => {
  const p = (rule: string, clause: string, title: string): TemplatePreview => ({ rule, clause, title, template: '', items: [], samples: [] })
  const all = [p('4.4.1', '4.4.1', '招标文件资料备案审核'), p('4.4.2-reject', '4.4.2', '招标文件资料备案审核不通过'), p('4.10.1', '4.10.1', '合同资料备案审核'), p('4.1.2a', '4.1.2a', '会员注册提交')]
  const rules = (f: string) => all.filter((x) => matches(x, f)).map((x) => x.rule)

  it('finds a clause and the clauses under it, not its look-alikes', () => {
    expect(rules('4.4')).toEqual(['4.4.1', '4.4.2-reject'])
    expect(rules('4.1')).toEqual(['4.1.2a'])
    expect(rules('4.4.2')).toEqual(['4.4.2-reject'])
    expect(rules('4.1.2')).toEqual(['4.1.2a'])
  })

  it('finds by title, and shows all when empty', () => {
    expect(rules('合同')).toEqual(['4.10.1'])
    expect(rules('  ')).toHaveLength(4)
  })
})
