//! An empty Tauri window: what the desktop app's cold start is measured
//! against (`make bench`). Same Tauri, same profile, same window size; no
//! state, no plugin, a page with one element.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    tauri::Builder::default()
        .run(tauri::generate_context!())
        .expect("the empty window failed to start");
}
