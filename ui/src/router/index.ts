import { createRouter, createWebHashHistory } from 'vue-router'
import { setOnLoggedOut } from '../api'
import { useSession } from '../stores/session'
import Login from '../views/login/index.vue'

export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    // The first screen of every start: in the main bundle, not a chunk fetched after it.
    { path: '/login', component: Login, meta: { public: true } },
    // A printable page, without the menu around it.
    { path: '/print/draws/:id', component: () => import('../views/draws/print.vue'), meta: { title: '专家抽取记录' } },
    {
      path: '/',
      // Loaded while the login form waits for a person (views/login).
      component: () => import('../layout/index.vue'),
      redirect: '/workbench',
      children: [
        { path: 'workbench', component: () => import('../views/workbench/index.vue'), meta: { title: '工作台' } },
        { path: 'projects', component: () => import('../views/projects/index.vue'), meta: { title: '项目' } },
        { path: 'projects/:code', component: () => import('../views/projects/detail.vue'), meta: { title: '项目详情' } },
        { path: 'projects/:code/draws/:id', component: () => import('../views/draws/index.vue'), meta: { title: '专家抽取' } },
        { path: 'projects/:code/materials/:stage', component: () => import('../views/materials/index.vue'), meta: { title: '发布资料查验' } },
        { path: 'complaints', component: () => import('../views/complaints/index.vue'), meta: { title: '投诉' } },
        { path: 'surveys', component: () => import('../views/surveys/index.vue'), meta: { title: '满意度' } },
        { path: 'improvements', component: () => import('../views/improvements/index.vue'), meta: { title: '持续改进' } },
        { path: 'statistics', component: () => import('../views/statistics/index.vue'), meta: { title: '统计' } },
        { path: 'experts', component: () => import('../views/experts/index.vue'), meta: { title: '专家库' } },
        { path: 'pushes', component: () => import('../views/pushes/index.vue'), meta: { title: '推送记录' } },
        { path: 'inbox', component: () => import('../views/inbox/index.vue'), meta: { title: '消息' } },
        { path: 'import', component: () => import('../views/import/index.vue'), meta: { title: '导入' } },
        { path: 'conflicts', component: () => import('../views/conflicts/index.vue'), meta: { title: '同步冲突' } },
        { path: 'audit', component: () => import('../views/audit/index.vue'), meta: { title: '审计' } },
        { path: 'settings', component: () => import('../views/settings/index.vue'), meta: { title: '设置' } },
      ],
    },
  ],
})

// No round trip before the first screen: a fresh start has no session, so a
// page that does not know one yet shows the login form, which moves on by
// itself if the backend still holds one (the page was reloaded).
router.beforeEach((to) => {
  const s = useSession()
  if (to.meta.public) return true
  if (!s.session || s.session.must_change_password) return { path: '/login', query: keep(to.fullPath) }
  return true
})

/** The page to come back to after logging in again (not the login itself). */
function keep(path: string) {
  return path.startsWith('/login') || path === '/' ? {} : { redirect: path }
}

setOnLoggedOut((expired) => {
  useSession().forget()
  const query = keep(router.currentRoute.value.fullPath)
  router.push({ path: '/login', query: expired ? { ...query, expired: '1' } : query })
})
