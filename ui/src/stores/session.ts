import { defineStore } from 'pinia'
import { api, type Session } from '../api'
import { menusFor } from '../router/menus'

export const useSession = defineStore('session', {
  state: () => ({ session: null as Session | null, loaded: false, unread: 0 }),
  getters: {
    loggedIn: (s) => s.session !== null,
    menus: (s) => (s.session ? menusFor(s.session.role) : []),
  },
  actions: {
    async load() {
      if (this.loaded) return
      const session = await api.session()
      // A login while this was asked wins.
      if (!this.loaded) {
        this.session = session
        this.loaded = true
      }
    },
    async login(username: string, password: string) {
      this.session = await api.login(username, password)
      this.loaded = true
    },
    async changePassword(current: string, next: string) {
      this.session = await api.changePassword(current, next)
    },
    async logout() {
      await api.logout()
      this.session = null
    },
    async refreshUnread() {
      if (this.session && !this.session.must_change_password) this.unread = await api.inboxUnread()
    },
    forget() {
      this.session = null
    },
  },
})
