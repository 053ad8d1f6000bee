import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'

// The Tauri shell loads this dev server in a dev build and `dist/` otherwise.
// Element Plus components (and their styles) are imported where a page uses
// them, so the login screen loads a fraction of the library: start-up time.
export default defineConfig({
  plugins: [vue(), Components({ resolvers: [ElementPlusResolver()], dts: false })],
  clearScreen: false,
  server: { port: 1420, strictPort: true },
  build: { target: 'safari15', chunkSizeWarningLimit: 2000 },
  // Every component here (ours and Element Plus's) is written with setup():
  // Vue's Options API support is left out of the bundle (start-up time).
  define: { __VUE_OPTIONS_API__: 'false' },
  // Components under test come with their Element Plus styles: let Vite take those in.
  test: { environment: 'jsdom', server: { deps: { inline: ['element-plus'] } } },
})
