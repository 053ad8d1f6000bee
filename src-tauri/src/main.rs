//! The desktop shell: opens the app as `ggzy_app::open` does, runs its
//! dispatcher and desktop notifications, and forwards each command to it.
//! No business rule lives here.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;

use ggzy_app::open::{Choice, Opened};
use ggzy_app::App;
use tauri::Manager;

fn open_store() -> Result<Opened, String> {
    tauri::async_runtime::block_on(Opened::open(Choice::from_env()?))
}

/// Every few seconds, a desktop notification when the logged-in staff
/// member has new messages (each told once).
async fn notify_new_messages(handle: tauri::AppHandle) {
    use tauri_plugin_notification::NotificationExt;
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        match handle.state::<App>().inbox_notice().await {
            Ok(Some(notice)) => {
                let shown = handle
                    .notification()
                    .builder()
                    .title(notice.title)
                    .body(notice.body)
                    .show();
                if let Err(e) = shown {
                    tracing::warn!(error = %e, "desktop notification failed");
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "inbox check failed"),
        }
    }
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    // The database opens while GTK, WebKit and the window come up (some
    // 200 ms): `setup` runs on the thread that serves the page, and the page
    // would otherwise wait for it.
    let opening = std::thread::spawn(open_store);
    tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            // A second start brings the open window forward instead.
            if let Some(w) = app.get_webview_window("main") {
                let _ = w.unminimize();
                let _ = w.set_focus();
            }
        }))
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_dialog::init())
        .setup(|app| {
            let opened = opening.join().map_err(|_| "打开数据库的线程意外退出")??;
            // The demo, asked for on a new file, is seeded here, past the
            // single-instance check, so a second start racing the first never
            // seeds too.
            app.manage(tauri::async_runtime::block_on(opened.into_app())?);
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                let app = handle.state::<App>();
                let db = app.store().path().to_owned();
                app.dispatch_forever(&db).await
            });
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move { handle.state::<App>().sync_forever().await });
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move { handle.state::<App>().keep_clocks().await });
            tauri::async_runtime::spawn(notify_new_messages(app.handle().clone()));
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::center_state,
            commands::read_channel_config,
            commands::sync_settings,
            commands::save_sync_settings,
            commands::test_sync,
            commands::sync_status,
            commands::sync_now,
            commands::conflicts,
            commands::resolve_conflict,
            commands::server_alarms,
            commands::set_up_center,
            commands::open_demo,
            commands::login,
            commands::logout,
            commands::session,
            commands::change_password,
            commands::workbench,
            commands::projects,
            commands::project,
            commands::act,
            commands::check_action,
            commands::push_log,
            commands::inbox,
            commands::inbox_unread,
            commands::requeue,
            commands::verify_audit,
            commands::audit_head,
            commands::anchor_settings,
            commands::save_anchor_settings,
            commands::anchor_now,
            commands::center_settings,
            commands::save_center_settings,
            commands::staff_users,
            commands::add_staff_user,
            commands::change_staff_user,
            commands::template_previews,
            commands::channel_settings,
            commands::save_channel_settings,
            commands::channel_secrets,
            commands::contact_rules,
            commands::materials,
            commands::pick_roster_file,
            commands::import_roster,
            commands::experts,
            commands::save_expert,
            commands::run_draw,
            commands::draws,
            commands::draw_view,
            commands::calendar,
            commands::complaints,
            commands::complaint,
            commands::assignable,
            commands::lodge_complaint,
            commands::accept_complaint,
            commands::refuse_complaint,
            commands::assign_complaint,
            commands::decide_complaint,
            commands::note_complaint,
            commands::save_complaint_file,
            commands::limits,
            commands::save_evidence_pack,
            commands::statistics,
            commands::save_statistics,
            commands::save_self_evaluation,
            commands::surveys,
            commands::record_survey,
            commands::improvements,
            commands::save_improvement,
            commands::save_limits,
            commands::save_calendar,
            commands::reply_call,
            commands::sign_in,
            commands::save_draw_record,
            commands::checklists,
            commands::save_checklists,
            commands::save_contact_rules,
            commands::pick_import_file,
            commands::import_file,
            commands::rejects,
            commands::fix_reject,
            commands::retry_rejects,
        ])
        .run(tauri::generate_context!())
        .expect("the desktop app failed to start");
}
