// The backend is Rust in the Tauri process; nothing of it runs under jsdom,
// so its side of the IPC is played by Tauri's own mock (@tauri-apps/api/mocks).
// What is tested is this side: the session store and the one door `call`.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import { createPinia, setActivePinia } from 'pinia'
import { api, setOnLoggedOut } from '../api'
import { useSession } from '../stores/session'

const zhang = {
  username: 'zhangwei',
  name: '张伟',
  role: 'center_staff',
  role_name: '中心工作人员',
  must_change_password: false,
  menus: [
    { path: '/workbench', title: '工作台' },
    { path: '/import', title: '导入' },
  ],
  actions: [{ type: 'notice.published', title: '发布公告', stages: ['tender_notice'] }],
  rights: ['resend'],
}

beforeEach(() => setActivePinia(createPinia()))
afterEach(() => clearMocks())

describe('the session store', () => {
  it('fills on login with the menus, actions and rights the backend gives, and empties on logout', async () => {
    const calls: string[] = []
    mockIPC((cmd, args) => {
      calls.push(cmd)
      if (cmd === 'login') return { ...zhang, username: (args as { username: string }).username }
      return null
    })
    const s = useSession()
    await s.login('zhangwei', 'Demo@2026')
    expect(s.loggedIn).toBe(true)
    expect(s.menus.map((m) => m.path)).toEqual(['/workbench', '/import'])
    expect(s.actions.map((a) => a.type)).toEqual(['notice.published'])
    expect(s.may('resend')).toBe(true)
    await s.logout()
    expect(s.session).toBeNull()
    expect(s.menus).toEqual([])
    expect(s.actions).toEqual([])
    expect(s.may('resend')).toBe(false)
    expect(calls).toEqual(['login', 'logout'])
  })

  it('takes the session the backend still holds after a reload, but never over a login made meanwhile', async () => {
    let answer: (v: unknown) => void = () => {}
    mockIPC((cmd) => {
      if (cmd === 'session') return new Promise((r) => (answer = r))
      if (cmd === 'login') return zhang
      return null
    })
    const s = useSession()
    const loading = s.load()
    await s.login('zhangwei', 'Demo@2026')
    answer(null) // the backend's answer from before the login
    await loading
    expect(s.session).toMatchObject({ username: 'zhangwei' })

    setActivePinia(createPinia())
    mockIPC((cmd) => (cmd === 'session' ? zhang : null))
    const reloaded = useSession()
    await reloaded.load()
    expect(reloaded.loggedIn).toBe(true)
  })

  it('keeps nobody logged in when the backend refuses, with its reason', async () => {
    mockIPC(() => {
      throw { code: 'bad_credentials', message: '用户名或密码错误' }
    })
    const s = useSession()
    await expect(s.login('zhangwei', 'wrong')).rejects.toMatchObject({ code: 'bad_credentials', message: '用户名或密码错误' })
    expect(s.loggedIn).toBe(false)
  })
})

describe('call', () => {
  it('sends the person to log in when any command says nobody is', async () => {
    let sentToLogin = false
    setOnLoggedOut(() => (sentToLogin = true))
    mockIPC(() => {
      throw { code: 'not_logged_in', message: '请先登录' }
    })
    await expect(api.workbench()).rejects.toMatchObject({ code: 'not_logged_in' })
    expect(sentToLogin).toBe(true)
  })

  it('sends the person to log in again when their session has been idle too long', async () => {
    let sentToLogin = false
    setOnLoggedOut(() => (sentToLogin = true))
    mockIPC(() => {
      throw { code: 'session_expired', message: '已超过 15 分钟未操作，为安全已退出登录' }
    })
    await expect(api.projects({} as never)).rejects.toMatchObject({ code: 'session_expired' })
    expect(sentToLogin).toBe(true)
  })

  it('turns a failure that is not ours into an internal error a person can read', async () => {
    mockIPC(() => {
      throw 'connection reset'
    })
    await expect(api.workbench()).rejects.toEqual({ code: 'internal', message: '操作失败：connection reset' })
  })
})
