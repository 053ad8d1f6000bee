// For the start-up benchmark: when the page's script began.
performance.mark('main')
import { createApp } from 'vue'
import { createPinia } from 'pinia'
// Components come with their styles where used (vite.config.ts); these are
// called from code, not templates.
import 'element-plus/theme-chalk/base.css'
import 'element-plus/es/components/message/style/css'
import 'element-plus/es/components/message-box/style/css'
import './styles/shared.css'
import App from './App.vue'
import { router } from './router'

createApp(App).use(createPinia()).use(router).mount('#app')
