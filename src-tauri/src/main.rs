//! The desktop shell: opens the store, hands it to `ggzy-app`, and forwards
//! each command to it. No business rule lives here.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;

use ggzy_app::App;
use ggzy_store::Store;
use std::path::PathBuf;
use tauri::Manager;

/// The database this window has open (the demo's file lies beside it).
pub struct Database(pub PathBuf);

/// Whether to open the demo center (`GGZY_DEMO=1`, as `make run` does).
fn demo_wanted() -> bool {
    std::env::var("GGZY_DEMO").is_ok_and(|v| v == "1")
}

/// The database: `GGZY_DB` if set (tests, a second office), else the app's
/// data directory: the center's own `ggzy.db`, or, for the demo, `demo.db`
/// beside it, a file of its own.
fn database_path(demo: bool) -> Result<PathBuf, String> {
    std::env::var_os("GGZY_DB")
        .map(PathBuf::from)
        .or_else(|| {
            let own = Store::default_path()?;
            Some(if demo {
                own.with_file_name("demo.db")
            } else {
                own
            })
        })
        .ok_or_else(|| "找不到用户数据目录：请设置 GGZY_DB 指向数据库文件".to_owned())
}

/// The store, opened early (see `main`), and whether it is to be seeded as the demo.
struct Opened {
    path: PathBuf,
    store: Store,
    seed_demo: bool,
}

fn open_store() -> Result<Opened, String> {
    let demo = demo_wanted();
    let path = database_path(demo)?;
    let fresh = !path.exists();
    let store = tauri::async_runtime::block_on(Store::open(&path)).map_err(|e| e.to_string())?;
    // A demo holding real channels (written by hand) never opens: its
    // realistic numbers would be sent to.
    tauri::async_runtime::block_on(ggzy_dispatch::deployment::check_demo(&store))
        .map_err(|e| format!("{}：{e}", path.display()))?;
    Ok(Opened {
        path,
        store,
        seed_demo: demo && fresh,
    })
}

/// Standalone (no sync server), the desktop is its deployment's one
/// dispatcher, once channels are configured; it starts afresh whenever an
/// admin saves them. If another dispatcher holds the database (`ggzy
/// dispatch run`), that one sends and this one does not.
async fn dispatch(handle: tauri::AppHandle, db: PathBuf) {
    let _lock = match ggzy_dispatch::deployment::lock(&db) {
        Ok(lock) => lock,
        Err(e) => return tracing::info!(error = %e, "not dispatching here"),
    };
    let app = handle.state::<App>();
    loop {
        let reconfigured = app.reconfigured();
        match app.dispatcher().await {
            Ok(Some(d)) => {
                tracing::info!("dispatching pushes");
                // Providers' delivery reports, when the channels ask for them here.
                let receipts = async {
                    match app.receipts_server().await {
                        Ok(Some(server)) => {
                            if let Err(e) = server.serve().await {
                                tracing::error!(error = %e, "the receipts endpoint stopped");
                            }
                        }
                        Ok(None) => {}
                        Err(e) => tracing::warn!(error = %e, "no receipts endpoint"),
                    }
                    std::future::pending::<()>().await
                };
                tokio::select! {
                    stopped = d.run(std::time::Duration::from_secs(2)) => {
                        if let Err(e) = stopped {
                            tracing::error!(error = %e, "the dispatcher stopped");
                        }
                    }
                    _ = receipts => {}
                    _ = reconfigured.notified() => continue,
                }
            }
            Ok(None) => tracing::info!("no push channel configured yet: pushes wait, queued"),
            Err(e) => tracing::warn!(error = %e, "the dispatcher did not start"),
        }
        reconfigured.notified().await;
    }
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
            let Opened {
                path,
                store,
                seed_demo,
            } = opening.join().map_err(|_| "打开数据库的线程意外退出")??;
            // The demo, asked for on a new file, is seeded here, past the
            // single-instance check, so a second start racing the first never
            // seeds too. A center's own new database stays empty: the window
            // shows the set-up screen.
            if seed_demo {
                tauri::async_runtime::block_on(store.seed_demo())?;
                tracing::info!(path = %path.display(), "seeded the demo center into a new database");
            }
            app.manage(App::new(store));
            app.manage(Database(path.clone()));
            tauri::async_runtime::spawn(dispatch(app.handle().clone(), path));
            tauri::async_runtime::spawn(notify_new_messages(app.handle().clone()));
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::center_state,
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
