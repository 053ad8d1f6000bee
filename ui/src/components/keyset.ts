import { ref, type Ref } from 'vue'
import type { PushList } from '../api'

/** Pages of a log that grows at the top, by position (`next_before`), never by offset. */
export function useKeysetPages(fetch: (before: number | undefined) => Promise<PushList>) {
  const page: Ref<PushList> = ref({ items: [], next_before: null })
  const loading = ref(false)
  // Where each page shown so far starts (undefined: the newest).
  const starts = ref<(number | undefined)[]>([undefined])

  async function load() {
    loading.value = true
    try {
      page.value = await fetch(starts.value[starts.value.length - 1])
    } catch {
      // shown by `call`
    } finally {
      loading.value = false
    }
  }
  function first() {
    starts.value = [undefined]
    return load()
  }
  function next() {
    if (page.value.next_before !== null) {
      starts.value.push(page.value.next_before)
      return load()
    }
  }
  function prev() {
    starts.value.pop()
    return load()
  }
  return { page, loading, starts, load, first, next, prev }
}
