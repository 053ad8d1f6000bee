import { defineStore } from 'pinia'
import { api, type Right, type Session } from '../api'

export const useSession = defineStore('session', {
  state: () => ({ session: null as Session | null, loaded: false, unread: 0 }),
  getters: {
    loggedIn: (s) => s.session !== null,
    /** The pages of the side menu, as the backend gives them for the role. */
    menus: (s) => s.session?.menus ?? [],
    /** The actions on a project the role may take. */
    actions: (s) => s.session?.actions ?? [],
    may: (s) => (right: Right) => s.session?.rights.includes(right) ?? false,
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
