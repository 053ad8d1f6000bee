import { defineStore } from 'pinia'
import { api, type CenterState } from '../api'
import { setLabels } from './labels'

/** What is known before anyone logs in: set up yet, and whether this is the demo. */
export const useCenter = defineStore('center', {
  state: () => ({ state: null as CenterState | null }),
  getters: {
    demo: (s) => s.state?.demo === true,
    /** No admin yet: the first start's set-up screen shows instead of the login. */
    needsSetUp: (s) => s.state !== null && !s.state.set_up,
  },
  actions: {
    async load() {
      this.state = await api.centerState()
      setLabels(this.state.labels)
    },
  },
})
