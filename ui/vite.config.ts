import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// The Tauri shell loads this dev server in a dev build and `dist/` otherwise.
export default defineConfig({
  plugins: [vue()],
  clearScreen: false,
  server: { port: 1420, strictPort: true },
  build: { target: 'safari15', chunkSizeWarningLimit: 2000 },
  test: { environment: 'jsdom' },
})
